/**
 * Deliberate breakage of a simulated host, for tests that the simulator's checks catch it (see
 * `Sabotage` in simulator.ts): here, a journal record corrupted on the host's disk.
 */
import { decodeFrame, decodeInputRecord } from "../protocol/mod.ts";
import type { SimChecks } from "./_sim_checks.ts";
import type { SimHost } from "./_sim_host.ts";

/**
 * Flips a bit of a sample's value in record 3 of the first of `h`'s streams that has one, telling
 * the checks of the new bytes; `trace` is told what was flipped.
 */
export async function corruptJournal(
  h: SimHost,
  checks: SimChecks,
  trace: (line: string) => void,
): Promise<void> {
  for (const stream of h.disk.journal.streams().sort()) {
    const records = await h.disk.records(stream);
    const rec = records.find((r) => r.pos === 3);
    if (!rec) continue;
    // Flip a bit of the last sample's value (its mantissa's top byte), where it sits in the record.
    const { frame } = decodeFrame(decodeInputRecord(rec.data).payload);
    const last = new Uint8Array(Float64Array.of(frame.v[frame.v.length - 1]!).buffer);
    const at = indexOfBytes(rec.data, last);
    if (at < 0) continue;
    const bad = rec.data.slice();
    bad[at + 6]! ^= 0x01;
    // The checker's view of the disk holds the record's bytes: it is told of the new ones.
    if (h.disk.watched(stream, 2)[0]?.data === rec.data) checks.patched(h.id, stream, 3, bad);
    // Replaced, not changed in place: the record may hold the log's own bytes.
    h.disk.replace(stream, 3, bad);
    trace(`sabotage flipped a bit of ${h.id} ${stream} record 3 at byte ${at}`);
    return;
  }
}

/** Where `needle` first occurs in `hay`, or -1. */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = hay.byteLength - needle.byteLength; i >= 0; i--) {
    for (let j = 0; j < needle.byteLength; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
