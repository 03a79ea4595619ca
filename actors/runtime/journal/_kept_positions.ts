/**
 * The file journal's positions file as a compaction keeps it: the last position of each stream
 * whose records the compaction deletes past every one the journal keeps of it, so that its
 * positions continue after them (on open, a stream's last position is the highest of the file's
 * and its segments'). Private to the file journal.
 */
import { join } from "node:path";
import { encodePositions } from "./_journal_format.ts";
import { readPositions, type Segment } from "./_segment_files.ts";
import type { JournalStreams } from "./_journal_streams.ts";
import { syncDir, writeAtomically } from "../../files/mod.ts";

/**
 * Before `doomed` are deleted from the journal in `dir` (of `streams`), with `kept` staying:
 * writes the last position of each stream whose records in `doomed` are past every one `kept`
 * holds of it. A stream that a kept segment holds as far needs no entry; when none is past (a
 * fleet's streams all take inputs, so each has newer records in the active segment) the file is
 * left as it is, not read and written again whole, an entry for every stream of a fleet host on
 * the appending thread. Also lets go of each stream's row in a doomed segment's table (`rows`),
 * which would otherwise hold the table in memory. By stream number, in passes over the tables'
 * rows, not a stream looked up a row: a fleet host's doomed segments hold millions of rows.
 */
export function keepLastPositions(
  dir: string,
  streams: JournalStreams,
  doomed: readonly Segment[],
  kept: readonly Segment[],
): void {
  const n = streams.size;
  const keptLast = new Float64Array(n), doomedLast = new Float64Array(n);
  for (const seg of kept) seg.streams.maxLastInto(keptLast);
  for (const seg of doomed) seg.streams.maxLastInto(doomedLast);
  streams.releaseRows(new Set(doomed.map((seg) => seg.streams)));
  const past: number[] = [];
  for (let id = 0; id < n; id++) if (doomedLast[id]! > keptLast[id]!) past.push(id);
  if (past.length === 0) return;
  const positions = readPositions(dir);
  for (const id of past) {
    const { name } = streams.byId(id);
    if (doomedLast[id]! > (positions.get(name) ?? 0)) positions.set(name, doomedLast[id]!);
  }
  writeAtomically(join(dir, "positions"), encodePositions(positions));
  syncDir(dir);
}
