/**
 * The simulator's mid-journal damage (the `damage` fault): while a crashed host is down, one
 * record of one of its instances' journals is damaged between intact records, as bytes flipped
 * inside a file journal's segment are. The host's next start finds a hole in that stream's
 * positions and rebuilds what it lost from the feed log, in order: it voids the records after
 * the hole and applies every input from the hole on again (see
 * actors/runtime/recovery/recovery.ts).
 */
import type { SimHost } from "./_sim_host.ts";
import type { Prng } from "./prng/mod.ts";

/**
 * Damages one record of one of `h`'s instance streams, drawn from `rng`: past the stream's newest
 * snapshot where it can (there, recovery reads it), never a stream's first record (its starting
 * configuration) or its last (records after the damage stay intact). Returns what was damaged,
 * or undefined when no stream is long enough.
 */
export function damageJournal(h: SimHost, rng: Prng): { stream: string; pos: number } | undefined {
  const journal = h.disk.journal;
  // The host's own edge stream (`_edge/...`) is not an instance's.
  const streams = journal.streams().filter((s) => !s.startsWith("_")).sort();
  if (streams.length === 0) return undefined;
  const stream = streams[rng.int(streams.length)]!;
  const last = journal.lastPosition(stream);
  if (last < 3) return undefined;
  const past = h.disk.snapshotPos(stream) + 1;
  const lo = past <= last - 1 ? Math.max(2, past) : 2;
  const pos = lo + rng.int(last - lo);
  return h.disk.damage(stream, pos) ? { stream, pos } : undefined;
}
