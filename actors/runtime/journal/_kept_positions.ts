/**
 * The file journal's positions file as a compaction keeps it: the last position of each stream
 * whose records the compaction deletes past every one the journal keeps of it, so that its
 * positions continue after them (on open, a stream's last position is the highest of the file's
 * and its segments'). Private to the file journal.
 */
import { join } from "node:path";
import { encodePositions } from "./_journal_format.ts";
import { readPositions, type Segment } from "./_segment_files.ts";
import type { StreamState } from "./_journal_streams.ts";
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
  // By stream number, not name: a fleet host's doomed segments hold millions of rows.
  const pastLast = new Float64Array(streams), past: StreamState[] = [];
  for (const seg of doomed) {
    const t = seg.streams;
    for (let row = 0; row < t.size; row++) {
      const stream = t.stream(row), last = t.last(row), id = stream.id;
      if (stream.rows === t) stream.rows = undefined;
      if (last > keptLast[id]! && last > pastLast[id]!) {
        if (pastLast[id] === 0) past.push(stream);
        pastLast[id] = last;
      }
    }
  }
  if (past.length === 0) return;
  const positions = readPositions(dir);
  for (const { name, id } of past) {
    if (pastLast[id]! > (positions.get(name) ?? 0)) positions.set(name, pastLast[id]!);
  }
  writeAtomically(join(dir, "positions"), encodePositions(positions));
  syncDir(dir);
}
