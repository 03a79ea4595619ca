/**
 * Which awareness entries a connection may set: its own client's only. An awareness update is a
 * list of (client id, clock, state) entries; a connection that sets another client's entry would
 * show one user as another (or remove them). The room decides which ids a connection owns; this
 * keeps the entries of those ids and counts the rest.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";

/** An awareness update cut to the entries `may` allows, and how many it did not. */
export interface OwnEntries {
  /** The allowed entries as an awareness update; undefined when none is. */
  update: Uint8Array | undefined;
  refused: number;
}

/**
 * The entries of `update` that `may` allows (it is asked once per entry, in order, with the
 * entry's client id, clock and state as JSON text); throws when `update` is not an awareness
 * update.
 */
export function ownEntries(
  update: Uint8Array,
  may: (clientId: number, clock: number, state: string) => boolean,
): OwnEntries {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const kept: Array<[number, number, string]> = [];
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const state = decoding.readVarString(decoder);
    if (may(clientId, clock, state)) kept.push([clientId, clock, state]);
    else refused++;
  }
  if (refused === 0) return { update, refused };
  if (kept.length === 0) return { update: undefined, refused };
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, kept.length);
  for (const [clientId, clock, state] of kept) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, state);
  }
  return { update: encoding.toUint8Array(encoder), refused };
}
