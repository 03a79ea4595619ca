/**
 * The y-websocket wire, as the stock client speaks it: every message starts with a varuint type,
 * `0` sync (then a varuint sub-type: step 1 with a state vector, step 2 or update with a Yjs
 * update), `1` awareness (a y-protocols awareness update), `3` query awareness. lib0's encoders
 * and decoders, as the reference server uses them.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";

export const MESSAGE_SYNC = 0, MESSAGE_AWARENESS = 1, MESSAGE_AUTH = 2, MESSAGE_QUERY_AWARENESS = 3;
export const SYNC_STEP1 = 0, SYNC_STEP2 = 1, SYNC_UPDATE = 2;

/** A message the server understood. */
export type ClientMessage =
  | { type: "step1"; stateVector: Uint8Array }
  | { type: "step2" | "update"; update: Uint8Array }
  | { type: "awareness"; update: Uint8Array }
  | { type: "query-awareness" };

/** A message the server cannot take; `reason` goes into the close frame. */
export class MalformedMessageError extends Error {
  override name = "MalformedMessageError";
}

/** Decodes one client message; throws MalformedMessageError naming what is wrong. */
export function decodeClientMessage(bytes: Uint8Array): ClientMessage {
  const d = decoding.createDecoder(bytes);
  let msg: ClientMessage;
  try {
    const type = decoding.readVarUint(d);
    if (type === MESSAGE_SYNC) {
      const sub = decoding.readVarUint(d);
      const payload = decoding.readVarUint8Array(d);
      if (sub === SYNC_STEP1) msg = { type: "step1", stateVector: payload };
      else if (sub === SYNC_STEP2) msg = { type: "step2", update: payload };
      else if (sub === SYNC_UPDATE) msg = { type: "update", update: payload };
      else throw new MalformedMessageError(`unknown sync message type ${sub}`);
    } else if (type === MESSAGE_AWARENESS) {
      msg = { type: "awareness", update: decoding.readVarUint8Array(d) };
    } else if (type === MESSAGE_QUERY_AWARENESS) {
      msg = { type: "query-awareness" };
    } else throw new MalformedMessageError(`unknown message type ${type}`);
  } catch (err) {
    if (err instanceof MalformedMessageError) throw err;
    throw new MalformedMessageError(`cannot decode a ${bytes.length}-byte message`);
  }
  if (d.pos !== bytes.length) {
    throw new MalformedMessageError(`${bytes.length - d.pos} bytes after the message's end`);
  }
  return msg;
}

/** `sync step 1`: the sender's state vector. */
export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MESSAGE_SYNC);
  encoding.writeVarUint(e, SYNC_STEP1);
  encoding.writeVarUint8Array(e, stateVector);
  return encoding.toUint8Array(e);
}

/** `sync step 2` (the answer to step 1) or `update` (a live change): a Yjs update. */
export function encodeSyncUpdate(update: Uint8Array, sub = SYNC_UPDATE): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MESSAGE_SYNC);
  encoding.writeVarUint(e, sub);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

/**
 * y-protocols' permission-denied message (type 2, auth: 0 then the reason), which the stock
 * client hands to its permission-denied handler (a console warning) and our page to its notice.
 */
export function encodePermissionDenied(reason: string): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MESSAGE_AUTH);
  encoding.writeVarUint(e, 0);
  encoding.writeVarString(e, reason);
  return encoding.toUint8Array(e);
}

/** An awareness message. */
export function encodeAwareness(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

/** What travels between server nodes on `troupe.collab.<session>`. */
export interface PeerMessage {
  /** The node that published it (a node ignores its own). */
  node: string;
  /** `update` a change, `awareness` presence, `state` a checkpoint: the node's whole document
   *  (published at each compaction and on unload, so a recording can be verified), `repair` an
   *  update sent by anti-entropy to the node named `target`, which every node merges like an
   *  update (anti_entropy.ts). */
  kind: "update" | "awareness" | "state" | "repair";
  /** The node a `repair` is for. */
  target?: string;
  payload: Uint8Array;
}

/** The peer message kinds this version reads, in the order of their codes. */
export const PEER_KINDS = ["update", "awareness", "state", "repair"] as const;

/**
 * Encodes a peer message: varstring node, varuint kind (0 update, 1 awareness, 2 state, 3 repair),
 * a repair's varstring target, bytes.
 */
export function encodePeerMessage(m: PeerMessage): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, m.node);
  encoding.writeVarUint(e, PEER_KINDS.indexOf(m.kind));
  if (m.kind === "repair") encoding.writeVarString(e, m.target ?? "");
  encoding.writeVarUint8Array(e, m.payload);
  return encoding.toUint8Array(e);
}

/** Decodes a peer message; throws MalformedMessageError. */
export function decodePeerMessage(bytes: Uint8Array): PeerMessage {
  try {
    const d = decoding.createDecoder(bytes);
    const node = decoding.readVarString(d);
    const kind = PEER_KINDS[decoding.readVarUint(d)];
    if (kind === undefined) throw new Error("unknown kind");
    const target = kind === "repair" ? decoding.readVarString(d) : undefined;
    const payload = decoding.readVarUint8Array(d);
    if (d.pos !== bytes.length) throw new Error(`${bytes.length - d.pos} trailing bytes`);
    return target === undefined ? { node, kind, payload } : { node, kind, target, payload };
  } catch (err) {
    throw new MalformedMessageError(`cannot decode a ${bytes.length}-byte peer message: ${err}`);
  }
}

/** A catch-up answer between nodes: the update the asker lacks and the answerer's state vector. */
export function encodeCatchUp(update: Uint8Array, stateVector: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint8Array(e, update);
  encoding.writeVarUint8Array(e, stateVector);
  return encoding.toUint8Array(e);
}

/** Decodes a catch-up answer. */
export function decodeCatchUp(bytes: Uint8Array): { update: Uint8Array; stateVector: Uint8Array } {
  const d = decoding.createDecoder(bytes);
  return { update: decoding.readVarUint8Array(d), stateVector: decoding.readVarUint8Array(d) };
}
