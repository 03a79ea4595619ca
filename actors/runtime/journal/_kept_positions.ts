/**
 * The file journal's positions file as a compaction keeps it: the last position of each stream
 * whose records the compaction deletes past every one the journal keeps of it, so that its
 * positions continue after them (on open, a stream's last position is the highest of the file's
 * and its segments'). Private to the file journal.
 */
import { join } from "node:path";
import { encodePositions } from "./_journal_format.ts";
import { readPositions, type Segment } from "./_segment_files.ts";
import { syncDir, writeAtomically } from "../../files/mod.ts";

/**
 * Before `doomed` are deleted from the journal in `dir` (of `streams` numbered streams), with
 * `kept` staying: writes the last position of each stream whose records in `doomed` are past
 * every one `kept` holds of it. A stream that a kept segment holds as far needs no entry; when
 * none is past (a fleet's streams all take inputs, so each has newer records in the active
 * segment) the file is left as it is, not read and written again whole, an entry for every
 * stream of a fleet host on the appending thread. Also lets go of each stream's row in
 * a doomed segment's table (`rows`), which would otherwise hold the table in memory.
 */
export function keepLastPositions(
  dir: string,
  streams: number,
  doomed: readonly Segment[],
  kept: readonly Segment[],
): void {
  const keptLast = new Float64Array(streams);
  for (const seg of kept) {
    const t = seg.streams;
    for (let row = 0; row < t.size; row++) {
      const id = t.id(row);
      if (t.last(row) > keptLast[id]!) keptLast[id] = t.last(row);
    }
  }
  const past = new Map<string, number>();
  for (const seg of doomed) {
    const t = seg.streams;
    for (let row = 0; row < t.size; row++) {
      const stream = t.stream(row), last = t.last(row);
      if (stream.rows === t) stream.rows = undefined;
      if (last > keptLast[stream.id]! && last > (past.get(stream.name) ?? 0)) {
        past.set(stream.name, last);
      }
    }
  }
  if (past.size === 0) return;
  const positions = readPositions(dir);
  for (const [name, last] of past) {
    if (last > (positions.get(name) ?? 0)) positions.set(name, last);
  }
  writeAtomically(join(dir, "positions"), encodePositions(positions));
  syncDir(dir);
}
