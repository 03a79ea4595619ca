/**
 * The bridge from a session document's silences and acknowledgements to the incident stage
 * (session_incidents.ts, protocol/incident_control.ts). When a client that may write (an editor or
 * an owner: viewers' writes never reach the document) adds or ends a silence, the session's whole
 * table of silences still in force goes to the stage on `troupe.req.incidents.control`, stamped
 * with now as the event time it takes effect at; when it acknowledges an incident, the stage is
 * asked whether it holds that incident. The stage's answer is written back beside each entry
 * (`status` ok or error, `detail`), where the session sees it: an ack of an unknown incident stays
 * in the document, refused, with the reason. As in bridge.ts, only the node the client is connected
 * to sends: changes from other nodes, from storage or from the server itself do not cross; but when
 * a node loads a session whose silences are in force, it sends the table once, so a stage that
 * restarted learns them.
 */
import type * as Y from "yjs";
import {
  ACK_BY_CHARS_MAX,
  BusRequestError,
  decodeIncidentControlAnswer,
  encodeIncidentControl,
  type IncidentControl,
  type IncidentControlAnswer,
  incidentControlSubject,
  type Silence,
} from "../../protocol/mod.ts";
import { type Room, SERVER_ORIGIN } from "../server/mod.ts";
import { type BridgeOptions, fromWriter } from "./bridge.ts";
import {
  type AckEntry,
  checkSilence,
  SessionIncidents,
  type SilenceEntry,
  silenceOfEntry,
} from "../session/mod.ts";

let requestSeq = 0;

/** Watches `room`'s silences and acks and sends clients' changes to the stage; returns a detach. */
export function attachIncidentBridge(room: Room, options: BridgeOptions): () => void {
  const inc = new SessionIncidents(room.doc);
  const onSilences = (e: Y.YMapEvent<SilenceEntry>, txn: Y.Transaction) => {
    if (fromWriter(txn.origin)) sendSilences(room, inc, [...e.keysChanged], options);
  };
  const onAcks = (e: Y.YMapEvent<AckEntry>, txn: Y.Transaction) => {
    if (!fromWriter(txn.origin)) return;
    for (const key of e.keysChanged) {
      const ack = inc.acks.get(key);
      if (ack !== undefined) sendAck(room, inc, ack, options);
    }
  };
  inc.silences.observe(onSilences);
  inc.acks.observe(onAcks);
  // A session loaded (again) tells the stage its silences in force: a stage that restarted, as
  // with troupe up, has none until it is told. The table is whole, so a repeat changes nothing.
  const nowMs = (options.now ?? Date.now)();
  if ([...inc.silences.values()].some((s) => typeof s?.ends_ms === "number" && s.ends_ms > nowMs)) {
    sendSilences(room, inc, [], options);
  }
  return () => {
    inc.silences.unobserve(onSilences);
    inc.acks.unobserve(onAcks);
  };
}

/** Sends the session's silences in force; writes the answer on the entries that changed. */
function sendSilences(
  room: Room,
  inc: SessionIncidents,
  changed: string[],
  options: BridgeOptions,
): void {
  const nowMs = (options.now ?? Date.now)();
  const silences: Silence[] = [];
  const refused = new Map<string, string>();
  for (const [key, value] of inc.silences.entries()) {
    try {
      const clean = checkSilence(`silences.${key}`, value);
      if (clean.ends_ms > nowMs) silences.push(silenceOfEntry(clean));
    } catch (err) {
      refused.set(key, (err as Error).message);
    }
  }
  const write = (answer: IncidentControlAnswer) => {
    if (room.doc.isDestroyed) return;
    room.doc.transact(() => {
      for (const key of changed) {
        const entry = inc.silences.get(key);
        if (entry === undefined) continue;
        const why = refused.get(key);
        inc.silences.set(key, {
          ...entry,
          status: why === undefined && answer.ok ? "ok" : "error",
          detail: why ?? answer.detail,
        });
      }
    }, SERVER_ORIGIN);
    options.onAnswer?.("silences", answer.ok ? "ok" : "error", answer.detail);
  };
  const control = { type: "silences" as const, session: room.session, silences };
  ask(control, nowMs, options).then(write);
}

/** Asks the stage whether it holds the acknowledged incident; writes its answer on the ack. */
function sendAck(room: Room, inc: SessionIncidents, ack: AckEntry, options: BridgeOptions): void {
  if (ack.status !== "pending") return;
  const nowMs = (options.now ?? Date.now)();
  // Who acknowledged, as the dashboard names its user (its awareness name), for the alert.
  const by = typeof ack.by === "string" ? ack.by.trim().slice(0, ACK_BY_CHARS_MAX) : "";
  const control = {
    type: "ack" as const,
    session: room.session,
    incident: ack.incident,
    ...(by === "" ? {} : { by }),
  };
  ask(control, nowMs, options).then((answer) => {
    const entry = inc.acks.get(ack.incident);
    // A newer ack of the same incident gets its own answer.
    if (room.doc.isDestroyed || entry?.at_ms !== ack.at_ms || entry.by !== ack.by) return;
    room.doc.transact(() => {
      inc.acks.set(ack.incident, {
        ...entry,
        status: answer.ok ? "ok" : "error",
        detail: answer.detail,
      });
    }, SERVER_ORIGIN);
    options.onAnswer?.(`acks/${ack.incident}`, answer.ok ? "ok" : "error", answer.detail);
  });
}

/** One request to the stage; resolves with its answer, or an error answer naming what failed. */
async function ask(
  control: IncidentControl,
  nowMs: number,
  options: BridgeOptions,
): Promise<IncidentControlAnswer> {
  const subject = incidentControlSubject();
  const timeout = options.timeoutMs ?? 5000;
  const bytes = encodeIncidentControl({
    id: `${options.src}:${control.session}:${nowMs}:${++requestSeq}`,
    src: options.src,
    ts: nowMs * 1000,
  }, control);
  let reply;
  try {
    reply = await options.bus.request(subject, bytes, { timeout });
  } catch (err) {
    // No responders: nothing subscribes to the subject, told at once (a recording running takes
    // it, and then it is a timeout).
    const none = err instanceof BusRequestError && err.noResponders;
    return {
      ok: false,
      detail: none
        ? `no incident stage runs: nothing subscribes to ${subject} (troupe up runs one)`
        : `no incident stage answered on ${subject} within ${timeout} ms (troupe up runs one)`,
    };
  }
  try {
    return decodeIncidentControlAnswer(reply.data);
  } catch (err) {
    return { ok: false, detail: `the stage's answer cannot be read: ${(err as Error).message}` };
  }
}
