/**
 * A catch-up between collab nodes: a node loading a session asks `troupe.req.collab.<session>`
 * (catchUpSubject) with its state vector, and a node holding the session loaded answers with the
 * update the asker lacks and its own state vector (so the asker can publish what the answerer
 * lacks). Layout (lib0): varuint8array update, varuint8array state vector. The subject is a request
 * subject (`reqSubject`): where no other node holds the session, the ask fails at once with "no
 * responders", and the node's load does not wait out the catch-up timeout.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { MalformedMessageError } from "./malformed_message_error.ts";
import { readField } from "./_read_field.ts";
import { reqSubject } from "./subjects.ts";

/** `troupe.req.collab.<session>`: where a node loading `session` asks the others for it. */
export function catchUpSubject(session: string): string {
  return reqSubject("collab", session);
}

/** A catch-up answer: the update the asker lacks and the answerer's state vector. */
export interface CatchUp {
  update: Uint8Array;
  stateVector: Uint8Array;
}

/** Encodes a catch-up answer. */
export function encodeCatchUp(update: Uint8Array, stateVector: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint8Array(e, update);
  encoding.writeVarUint8Array(e, stateVector);
  return encoding.toUint8Array(e);
}

/** Decodes a catch-up answer; throws MalformedMessageError naming the field at fault. */
export function decodeCatchUp(bytes: Uint8Array): CatchUp {
  const d = decoding.createDecoder(bytes);
  const what = `catch-up answer of ${bytes.length} bytes`;
  const update = readField(what, "update", () => decoding.readVarUint8Array(d));
  const stateVector = readField(what, "stateVector", () => decoding.readVarUint8Array(d));
  if (d.pos !== bytes.length) {
    throw new MalformedMessageError(
      `Cannot decode ${what}: ${bytes.length - d.pos} bytes after its end`,
    );
  }
  return { update, stateVector };
}
