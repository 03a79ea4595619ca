/**
 * The soak's archive of journal segments: compaction deletes a sealed segment every snapshot
 * covers, from the middle of the journal too, and the archive (hard links made as segments
 * appear) still reads as one whole journal, each stream's positions without a gap.
 */
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FileJournal } from "../../actors/runtime/journal/file_journal.ts";
import { SegmentArchive } from "../../bench/_segment_archive.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("segment archive");

async function positions(journal: FileJournal, stream: string): Promise<number[]> {
  const out: number[] = [];
  for await (const rec of journal.read(stream, 0)) out.push(rec.pos);
  return out;
}

test("segments compaction deleted from the middle of a journal are still read from the archive", async () => {
  const dir = tempDir();
  try {
    const journalDir = join(dir.path, "journal");
    const archive = new SegmentArchive(journalDir, join(dir.path, "archive"));
    const journal = await FileJournal.open(journalDir, { fsync: "never", segmentBytesMax: 4096 });
    // "b" has one record, in the first segment, past what its snapshot covers: that segment stays.
    await journal.append("b", new Uint8Array(100));
    for (let i = 0; i < 200; i++) {
      await journal.append("a", new Uint8Array(100).fill(i));
      if (i % 20 === 0) archive.sweep();
    }
    await journal.sync();
    archive.sweep();
    const before = journal.segments().length;
    assert.ok(before >= 4, `${before} segments`);
    await journal.compact(new Map([["a", 200], ["b", 0]]));
    const kept = journal.segments().length;
    assert.ok(kept < before && kept >= 2, `${kept} of ${before} segments kept`);
    const left = await positions(journal, "a");
    assert.ok(left.length < 200 && left[0] === 1, `the journal holds ${left.length} of 200`);
    await journal.close();

    assert.is(archive.segments, before);
    assert.is(archive.compacted(), before - kept);
    const whole = await FileJournal.open(archive.dir, { fsync: "never" });
    try {
      assert.equal(await positions(whole, "a"), Array.from({ length: 200 }, (_, i) => i + 1));
      assert.equal(await positions(whole, "b"), [1]);
    } finally {
      await whole.close();
    }
  } finally {
    dir.remove();
  }
});

test.run();
