/**
 * What travels between collab server nodes on `troupe.collab.<session>`: a change, presence, a
 * checkpoint or an anti-entropy repair, each with the node that published it. Layout (lib0):
 * varstring node, varuint kind (0 update, 1 awareness, 2 state, 3 repair), a repair's varstring
 * target, varuint8array payload. A node drops (and counts) a message it cannot decode.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { MalformedMessageError } from "./malformed_message_error.ts";
import { describeValue } from "./protocol_error.ts";
import { readField as read } from "./_read_field.ts";

/** The peer message kinds this version reads, in the order of their codes. */
export const PEER_KINDS = ["update", "awareness", "state", "repair"] as const;

/** A peer message's kind (see `PeerMessage.kind`). */
export type PeerKind = typeof PEER_KINDS[number];

/** What travels between server nodes on `troupe.collab.<session>`. */
export interface PeerMessage {
  /** The node that published it (a node ignores its own). */
  node: string;
  /** `update` a change, `awareness` presence, `state` a checkpoint: the node's whole document
   *  (published at each compaction and on unload, so a recording can be verified), `repair` an
   *  update sent by anti-entropy to the node named `target`, which every node merges like an
   *  update (collab/server/anti_entropy.ts). */
  kind: PeerKind;
  /** The node a `repair` is for (a repair's only; required there). */
  target?: string;
  payload: Uint8Array;
}

/** Encodes a peer message; throws MalformedMessageError on a field that cannot be written. */
export function encodePeerMessage(m: PeerMessage): Uint8Array {
  const code = PEER_KINDS.indexOf(m.kind);
  if (typeof m.node !== "string") throw encodeError("node", m.node, "must be a string");
  if (code < 0) throw encodeError("kind", m.kind, `must be one of ${PEER_KINDS.join(", ")}`);
  if (m.kind === "repair" && (typeof m.target !== "string" || m.target === "")) {
    throw encodeError("target", m.target, "must name the node a repair is for");
  }
  if (!(m.payload instanceof Uint8Array)) throw encodeError("payload", m.payload, "must be bytes");
  const e = encoding.createEncoder();
  encoding.writeVarString(e, m.node);
  encoding.writeVarUint(e, code);
  if (m.kind === "repair") encoding.writeVarString(e, m.target!);
  encoding.writeVarUint8Array(e, m.payload);
  return encoding.toUint8Array(e);
}

/** Decodes a peer message; throws MalformedMessageError naming the field at fault. */
export function decodePeerMessage(bytes: Uint8Array): PeerMessage {
  const d = decoding.createDecoder(bytes);
  const what = `peer message of ${bytes.length} bytes`;
  const node = read(what, "node", () => decoding.readVarString(d));
  const code = read(what, "kind", () => decoding.readVarUint(d));
  const kind = PEER_KINDS[code];
  if (kind === undefined) {
    throw new MalformedMessageError(
      `Cannot decode ${what}: field "kind" must be a code from 0 to ${
        PEER_KINDS.length - 1
      }, got ${code}`,
    );
  }
  const target = kind === "repair" ? read(what, "target", () => decoding.readVarString(d)) : "";
  const payload = read(what, "payload", () => decoding.readVarUint8Array(d));
  if (d.pos !== bytes.length) {
    throw new MalformedMessageError(
      `Cannot decode ${what}: ${bytes.length - d.pos} bytes after its end`,
    );
  }
  return kind === "repair" ? { node, kind, target, payload } : { node, kind, payload };
}

function encodeError(field: string, value: unknown, what: string): MalformedMessageError {
  return new MalformedMessageError(
    `Cannot encode peer message: field "${field}" ${what}, got ${describeValue(value)}`,
  );
}
