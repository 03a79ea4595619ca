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
  // Positions by stream number: a is 0, b is 1.
  assert.ok(t.anyPast(new Float64Array([11, 2 ** 40])), "a's 12 is past 11");
  assert.not.ok(t.anyPast(new Float64Array([12, 2 ** 40])));
  assert.ok(t.anyPast(new Float64Array([12])), "a number past the array's end is at 0");
});

test("rowOf() finds every stream's row by number, -1 for one the segment does not hold", () => {
  const seed = 7;
  const prng = new Prng(seed);
  const numbers = new JournalStreams();
  for (let i = 0; i < 12_000; i++) numbers.intern(`s${i}`);
  const t = new SegmentStreams(numbers);
  const rowOf = new Map<number, number>();
  // Streams come in an order unlike their numbers, past a chunk of rows; rows added after a
  // lookup are found too.
  for (let round = 0; round < 3; round++) {
    for (let n = 0; n < 3000; n++) {
      const id = prng.int(12_000);
      const row = rowOf.get(id);
      if (row === undefined) rowOf.set(id, t.add(id, id * 10));
      else t.extend(row, t.last(row) + 1);
    }
    for (let id = 0; id < 12_000; id++) {
      assert.is(t.rowOf(id), rowOf.get(id) ?? -1, `stream ${id}, round ${round}, seed ${seed}`);
    }
  }
  assert.ok(t.size > 4096, `${t.size} rows`);
  for (const [id, row] of rowOf) {
    assert.equal([t.id(row), t.first(row), t.last(row) - t.first(row) + 1], [
      id,
      id * 10,
      t.count(row),
    ]);
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
  for (const n of [0, 40, 4096, 5000]) {
    const t = new SegmentStreams(numbers);
    for (let i = 0; i < n; i++) t.add(i, i + 1);
    t.trim();
    t.add(n, n + 1);
    t.add(n + 1, n + 2);
    const lasts = Array.from({ length: n + 2 }, (_, r) => t.last(r));
    assert.equal(lasts, [...Array(n + 2).keys()].map((i) => i + 1), `${n} rows`);
    assert.equal([t.rowOf(n), t.rowOf(n + 1), t.rowOf(n + 2)], [n, n + 1, -1]);
  }
});

test.run();
