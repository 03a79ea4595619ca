/**
 * A segment's table of streams (_segment_streams.ts): rows as streams first come, extents moved
 * in place, a stream's row found by its number however the rows were added, and the table's room
 * given back when sealed.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { JournalStreams } from "../../../../actors/runtime/journal/_journal_streams.ts";
import { SegmentStreams } from "../../../../actors/runtime/journal/_segment_streams.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("segment_streams");

test("rows keep each stream's first and last position and count, and name their streams", () => {
  const numbers = new JournalStreams();
  const t = new SegmentStreams(numbers, 1);
  const a = numbers.intern("anomaly/a"), b = numbers.intern("bars/b");
  const ra = t.add(a.id, 5);
  const rb = t.add(b.id, 2 ** 40);
  t.extend(ra, 9);
  t.extend(ra, 12);
  assert.equal([t.size, ra, rb], [2, 0, 1]);
  assert.equal([t.first(ra), t.last(ra), t.count(ra)], [5, 12, 3]);
  assert.equal([t.first(rb), t.last(rb), t.count(rb)], [2 ** 40, 2 ** 40, 1]);
  assert.equal([t.name(ra), t.stream(rb)], ["anomaly/a", b]);
  assert.ok(t.anyPast(new Map([["anomaly/a", 11], ["bars/b", 2 ** 40]])), "a's 12 is past 11");
  assert.not.ok(t.anyPast(new Map([["anomaly/a", 12], ["bars/b", 2 ** 40]])));
  assert.ok(t.anyPast(new Map([["anomaly/a", 12]])), "a stream absent from the map is at 0");
});

test("rowOf() finds every stream's row by number, -1 for one the segment does not hold", () => {
  const seed = 7;
  const prng = new Prng(seed);
  const numbers = new JournalStreams();
  for (let i = 0; i < 3000; i++) numbers.intern(`s${i}`);
  const t = new SegmentStreams(numbers);
  const rowOf = new Map<number, number>();
  // Streams come in an order unlike their numbers; rows added after a lookup are found too.
  for (let round = 0; round < 3; round++) {
    for (let n = 0; n < 500; n++) {
      const id = prng.int(3000);
      if (rowOf.has(id)) continue;
      rowOf.set(id, t.add(id, 1 + n));
    }
    for (let id = 0; id < 3000; id++) {
      assert.is(t.rowOf(id), rowOf.get(id) ?? -1, `stream ${id}, round ${round}, seed ${seed}`);
    }
  }
});

test("rowOf() orders numbers past 16 bits by every bit", () => {
  const seed = 9;
  const prng = new Prng(seed);
  const t = new SegmentStreams(new JournalStreams());
  const rowOf = new Map<number, number>();
  for (let n = 0; n < 2000; n++) {
    // Numbers sharing their low 16 bits, and numbers up to 2^31 - 1.
    const id = n % 2 ? prng.int(2 ** 31 - 1) : (prng.int(30_000) << 16) | 0x1234;
    if (!rowOf.has(id)) rowOf.set(id, t.add(id, 1));
  }
  for (const [id, row] of rowOf) assert.is(t.rowOf(id), row, `stream ${id}, seed ${seed}`);
  for (let n = 0; n < 2000; n++) {
    const id = prng.int(2 ** 31 - 1);
    assert.is(t.rowOf(id), rowOf.get(id) ?? -1, `stream ${id}, seed ${seed}`);
  }
});

test("trim() keeps every row and takes more after", () => {
  const numbers = new JournalStreams();
  const t = new SegmentStreams(numbers);
  for (let i = 0; i < 40; i++) t.add(numbers.intern(`s${i}`).id, i + 1);
  t.trim();
  assert.equal(
    Array.from({ length: 40 }, (_, r) => t.last(r)),
    [...Array(40).keys()].map((i) => i + 1),
  );
  const empty = new SegmentStreams(numbers);
  empty.trim();
  assert.is(empty.add(3, 4), 0);
  assert.is(empty.add(4, 5), 1);
  assert.equal([empty.rowOf(3), empty.rowOf(4), empty.rowOf(5)], [0, 1, -1]);
});

test.run();
