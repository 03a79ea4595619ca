/**
 * The bridge from a session document to the actors: a threshold entry whose settings a client
 * (an editor or an owner: viewers' writes never reach the document) changed becomes one control
 * request on `troupe.ctl.<kind>[.<channel>]`, whose body is the settings. The host validates it,
 * journals it as an input of every instance it concerns (so a replay reproduces it) and answers
 * `ok` with what it applied, or `error` with the reason; the answer is written back beside the
 * settings (`status`, `applied` or `reason`, and the answering `host`) where the session sees it.
 * A key is a channel, or for group kinds (`coherence/<group>`) a group: the host's key either way.
 * Only the node the client is connected to sends the request: changes that arrive from other nodes,
 * from storage or from the server itself do not cross the bridge. The other way, the bridge keeps
 * the document's `applied` map equal to what the hosts report they apply (settings_watch.ts),
 * whoever changed it.
 */
import * as Y from "yjs";
import { describeControlApplied } from "../actors/runtime/storage/mod.ts";
import {
  type Bus,
  controlAnswerOf,
  ctlSubject,
  decodeEnvelope,
  encodeEnvelope,
} from "../protocol/mod.ts";
import type { Room } from "./_room.ts";
import { watchAppliedSettings } from "./settings_watch.ts";
import { SERVER_ORIGIN } from "./_room.ts";
import { checkSettings, parseThresholdKey } from "./session_doc.ts";
import { canWrite, type Role } from "./token.ts";

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

function send(room: Room, key: string, options: BridgeOptions): void {
  const entry = room.sdoc.thresholds.get(key);
  if (!(entry instanceof Y.Map)) return;
  const now = options.now ?? Date.now;
  const id = `${options.src}:${room.session}:${now()}:${++requestSeq}`;
  /** Writes the answer back: `detail` is what was applied (ok) or the reason (error). */
  const answer = (status: "ok" | "error", detail: string, host?: string) => {
    // A newer change of the same entry supersedes this one's answer.
    if (entry.get("ctl_id") !== id || room.doc.isDestroyed) return;
    room.doc.transact(() => {
      entry.set("status", status);
      entry.delete(status === "ok" ? "reason" : "applied");
      entry.set(status === "ok" ? "applied" : "reason", detail);
      if (host === undefined) entry.delete("host");
      else entry.set("host", host);
      entry.set("answered_ms", now());
    }, SERVER_ORIGIN);
    options.onAnswer?.(key, status, detail);
  };
  room.doc.transact(() => {
    entry.set("ctl_id", id);
    entry.set("status", "pending");
  }, SERVER_ORIGIN);
  const target = parseThresholdKey(key);
  if (!target) return answer("error", `"${key}" is not <kind> or <kind>/<channel>`);
  let body: Record<string, unknown>;
  let subject: string;
  try {
    body = checkSettings(`thresholds.${key}.settings`, entry.get("settings"));
    subject = ctlSubject(target.kind, target.channel);
  } catch (err) {
    return answer("error", (err as Error).message);
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
  options.bus.request(subject, bytes, { timeout }).then(
    (reply) => {
      try {
        const env = decodeEnvelope(reply.data);
        const a = controlAnswerOf(env);
        if (a.ok) return answer("ok", describeControlApplied(a.applied), env.src);
        answer("error", a.error, env.src);
      } catch (err) {
        answer("error", `the host's answer cannot be read: ${(err as Error).message}`);
      }
    },
    () => answer("error", `no actor host answered on ${subject} within ${timeout} ms`),
  );
}
