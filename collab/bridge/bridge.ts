/**
 * The bridge from a session document to the actors: a threshold entry whose settings a client
 * (an editor or an owner: viewers' writes never reach the document) changed becomes one control
 * request on `troupe.ctl.<kind>[.<channel>]`, whose body is the settings. The host validates it,
 * journals it as an input of every instance it concerns (so a replay reproduces it) and answers
 * `ok` with what it applied, or `error` with the reason; the answer is written back beside the
 * settings (`status`, `applied` or `reason`, and the answering `host`) where the session sees it.
 * A kind-wide change is applied and answered by every host running the kind and by each thread
 * of a threaded host, each for its own instances: the bridge gathers every answer (`askControl`)
 * and writes their sum, the hosts named, and each refusal with the hosts that gave it. When only
 * hosts the change is not for answer (they pass), the entry's error says at once that no host
 * runs the kind, and what the hosts run.
 * A key is a channel, or for group kinds (`coherence/<group>`) a group: the host's key either way.
 * Only the node the client is connected to sends the request: changes that arrive from other nodes,
 * from storage or from the server itself do not cross the bridge. The other way, the bridge keeps
 * the document's `applied` map equal to what the hosts report they apply (settings_watch.ts),
 * whoever changed it.
 */
import * as Y from "yjs";
import {
  answeredByAddressee,
  askControl,
  type ControlAnswers,
  describeControlApplied,
  describePasses,
  readControlAnswers,
} from "../../actors/runtime/control/mod.ts";
import { type Bus, ctlSubject, encodeEnvelope } from "../../protocol/mod.ts";
import { type Room, SERVER_ORIGIN } from "../server/mod.ts";
import { watchAppliedSettings } from "./settings_watch.ts";
import { canWrite, checkSettings, hostList, parseThresholdKey, type Role } from "../session/mod.ts";

/** Options of `attachBridge`. */
export interface BridgeOptions {
  bus: Bus;
  /** The `src` of the control envelopes (the server node). */
  src: string;
  /** How long to wait for a host's answer: 5000 ms. */
  timeoutMs?: number;
  /** Milliseconds since the epoch. */
  now?(): number;
  /** Called after each answer is written back (tests, metrics). */
  onAnswer?(key: string, status: "ok" | "error", detail: string | undefined): void;
}

let requestSeq = 0;

/** Watches `room`'s thresholds and sends clients' changes to the actors; returns a detach. */
export function attachBridge(room: Room, options: BridgeOptions): () => void {
  const thresholds = room.sdoc.thresholds;
  const observer = (events: Y.YEvent<Y.AbstractType<unknown>>[], txn: Y.Transaction) => {
    if (!fromWriter(txn.origin)) return;
    const keys = new Set<string>();
    for (const e of events) {
      if (e.target === thresholds) {
        for (const k of (e as Y.YMapEvent<unknown>).keysChanged) {
          if (thresholds.get(k) instanceof Y.Map) keys.add(k);
        }
      } else if (e.path.length === 1 && (e as Y.YMapEvent<unknown>).keysChanged.has("settings")) {
        keys.add(String(e.path[0]));
      }
    }
    for (const key of keys) send(room, key, options);
  };
  thresholds.observeDeep(observer);
  const unwatch = watchAppliedSettings(room, { bus: options.bus });
  return () => {
    thresholds.unobserveDeep(observer);
    unwatch();
  };
}

/** Whether a transaction's origin is a client that may write (an editor or an owner). */
export function fromWriter(origin: unknown): boolean {
  if (origin === null || typeof origin !== "object") return false;
  const role = (origin as { role?: Role }).role;
  return role !== undefined && canWrite(role);
}

/** What the bridge writes back into a threshold entry: the hosts' answer, gathered. */
interface BridgeAnswer {
  status: "ok" | "error";
  /** What was applied (by the accepting hosts, when some refused). */
  applied?: string;
  /** Why not: the refusals, each with the hosts that gave it. */
  reason?: string;
  /** The hosts that answered. */
  host?: string;
}

function send(room: Room, key: string, options: BridgeOptions): void {
  const entry = room.sdoc.thresholds.get(key);
  if (!(entry instanceof Y.Map)) return;
  const now = options.now ?? Date.now;
  const id = `${options.src}:${room.session}:${now()}:${++requestSeq}`;
  /** Writes the answer back, unless a newer change of the same entry superseded this one. */
  const answer = (a: BridgeAnswer) => {
    if (entry.get("ctl_id") !== id || room.doc.isDestroyed) return;
    room.doc.transact(() => {
      entry.set("status", a.status);
      for (const field of ["applied", "reason", "host"] as const) {
        const value = a[field];
        if (value === undefined) entry.delete(field);
        else entry.set(field, value);
      }
      entry.set("answered_ms", now());
    }, SERVER_ORIGIN);
    options.onAnswer?.(key, a.status, a.status === "ok" ? a.applied : a.reason);
  };
  room.doc.transact(() => {
    entry.set("ctl_id", id);
    entry.set("status", "pending");
  }, SERVER_ORIGIN);
  const target = parseThresholdKey(key);
  if (!target) {
    return answer({ status: "error", reason: `"${key}" is not <kind> or <kind>/<channel>` });
  }
  let body: Record<string, unknown>;
  let subject: string;
  try {
    body = checkSettings(`thresholds.${key}.settings`, entry.get("settings"));
    subject = ctlSubject(target.kind, target.channel);
  } catch (err) {
    return answer({ status: "error", reason: (err as Error).message });
  }
  const timeout = options.timeoutMs ?? 5000;
  const bytes = encodeEnvelope({
    id,
    type: "config",
    src: options.src,
    ts: Math.round(now() * 1000),
    corr: `${room.session}/${key}`,
    body,
  });
  // A keyed change is applied by its owner alone; a kind-wide one by every host and thread.
  const replies = askControl(options.bus, subject, bytes, {
    timeout,
    keyed: target.channel !== undefined,
  });
  replies.then(
    (all) => {
      try {
        answer(answerOf(readControlAnswers(all), target.kind));
      } catch (err) {
        answer({
          status: "error",
          reason: `the host's answer cannot be read: ${(err as Error).message}`,
        });
      }
    },
    () =>
      answer({
        status: "error",
        reason: `no actor host answered on ${subject} within ${timeout} ms`,
      }),
  );
}

/**
 * The entry's answer from every host's: ok when all accepted (what they applied together, the
 * hosts named); else an error whose reason names the hosts of each refusal, beside what the
 * others applied.
 */
function answerOf(read: ControlAnswers, kind: string): BridgeAnswer {
  // Only hosts the change is not for answered: no host runs the kind (or owns the channel).
  if (!answeredByAddressee(read)) {
    return { status: "error", reason: describePasses(kind, read.passed) };
  }
  const hosts = [...read.accepted, ...read.refused.flatMap((r) => r.hosts)];
  const host = hostList(hosts);
  const applied = read.accepted.length > 0 ? describeControlApplied(read.applied) : undefined;
  const why = [
    ...read.refused.map((r) => `${r.hosts.join(", ")} refused: ${r.reason}`),
    ...read.unreadable.map((u) => `the host's answer cannot be read: ${u}`),
  ];
  if (why.length === 0) return { status: "ok", ...(applied ? { applied } : {}), host };
  // A lone host's refusal reads as before: its reason, the host beside it.
  const reason = hosts.length === 1 && read.refused.length === 1
    ? read.refused[0]!.reason
    : why.join("; ");
  return {
    status: "error",
    reason,
    ...(applied ? { applied: `${applied} on ${hostList(read.accepted)}` } : {}),
    ...(hosts.length > 0 ? { host } : {}),
  };
}
