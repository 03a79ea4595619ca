/**
 * The y-websocket wire, as the stock client speaks it on `/collab/<session>`: every message starts
 * with a varuint type, `0` sync (then a varuint sub-type: step 1 with a state vector, step 2 or
 * update with a Yjs update), `1` awareness (a y-protocols awareness update), `2` auth (the server's
 * permission-denied), `3` query awareness. lib0's encoders and decoders, as the reference server
 * uses them. What a room reads from a client is a `RoomMessage` (`decodeRoomMessage`); what it
 * sends back is written by the encoders here.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { MalformedMessageError } from "./malformed_message_error.ts";

/** y-websocket's message types. */
export const MESSAGE_SYNC = 0, MESSAGE_AWARENESS = 1, MESSAGE_AUTH = 2, MESSAGE_QUERY_AWARENESS = 3;
/** y-protocols' sync sub-types. */
export const SYNC_STEP1 = 0, SYNC_STEP2 = 1, SYNC_UPDATE = 2;

/** A client's message a room understands. */
export type RoomMessage =
  | { type: "step1"; stateVector: Uint8Array }
  | { type: "step2" | "update"; update: Uint8Array }
  | { type: "awareness"; update: Uint8Array }
  | { type: "query-awareness" };

/** Decodes one client message; throws MalformedMessageError naming what is wrong. */
export function decodeRoomMessage(bytes: Uint8Array): RoomMessage {
  const d = decoding.createDecoder(bytes);
  let msg: RoomMessage;
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

/** Encodes a message `decodeRoomMessage` reads back (what a client sends; the tests' writer). */
export function encodeRoomMessage(m: RoomMessage): Uint8Array {
  switch (m.type) {
    case "step1":
      return encodeSyncStep1(m.stateVector);
    case "step2":
      return encodeSyncUpdate(m.update, SYNC_STEP2);
    case "update":
      return encodeSyncUpdate(m.update, SYNC_UPDATE);
    case "awareness":
      return encodeAwareness(m.update);
    case "query-awareness": {
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, MESSAGE_QUERY_AWARENESS);
      return encoding.toUint8Array(e);
    }
  }
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
