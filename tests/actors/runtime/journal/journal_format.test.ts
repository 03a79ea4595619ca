/**
 * The journal's index and positions files (_journal_format.ts): written piece by piece, they read
 * back as what was written, and are the bytes the general encoder made of the same rows (files
 * written before read as ever), also past 65,536 streams (msgpack's 32-bit array header); an
 * index encoded in slices, with other values encoded between them, is the same bytes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeIndex,
  decodePositions,
  encodeIndex,
  encodeIndexInSlices,
  encodePositions,
  getU32,
  INDEX_ROWS_A_SLICE,
  type IndexRow,
  indexStreams,
} from "../../../../actors/runtime/journal/_journal_format.ts";
import { JournalStreams } from "../../../../actors/runtime/journal/_journal_streams.ts";
import { SegmentStreams } from "../../../../actors/runtime/journal/_segment_streams.ts";
import { encodeValue } from "../../../../protocol/mod.ts";

const test = suite("journal_format");

function rows(n: number): IndexRow[] {
  const out: IndexRow[] = [];
  for (let i = 0; i < n; i++) {
    const first = i === 1 ? 2 ** 40 + 3 : 1 + i * 7;
    const name = i === 2 ? "anomaly/température-2" : `stats/node-${i}`;
    out.push([name, first, first + (i % 5), 1 + (i % 5)]);
  }
  return out;
}

test("an index reads back as written, and is the general encoder's bytes of its rows", () => {
  for (const n of [0, 3, 15, 16, 70_000]) {
    const written = rows(n);
    const numbers = new JournalStreams();
    const index = {
      bytes: 64 << 20,
      records: 5 * n + 1,
      streams: indexStreams(written, numbers),
    };
    const bytes = encodeIndex(index);
    const back = decodeIndex(bytes)!;
    assert.ok(back, `${n} streams`);
    assert.is(back.bytes, index.bytes);
    assert.is(back.records, index.records);
    assert.equal(back.rows, written, `${n} streams`);
    const body = encodeValue({
      v: 1,
      bytes: index.bytes,
      records: index.records,
      streams: written,
    });
    assert.equal(Array.from(bytes.subarray(8)), Array.from(body), `${n} streams: the same bytes`);
    const empty = { ...index, streams: new SegmentStreams(numbers) };
    assert.is(getU32(encodeIndex(empty), 0), getU32(bytes, 0));
  }
});

test("an index encoded in slices is encodeIndex's bytes, whatever is encoded between its slices", async () => {
  const s = INDEX_ROWS_A_SLICE;
  for (const n of [0, 1, s - 1, s, s + 1, 2 * s + 5]) {
    const index = {
      bytes: 64 << 20,
      records: 3 * n,
      streams: indexStreams(rows(n), new JournalStreams()),
    };
    const whole = encodeIndex(index);
    let waits = 0;
    const sliced = await encodeIndexInSlices(index, async () => {
      waits++;
      // Another writer of the thread's buffer between two slices (a positions file, an output).
      encodePositions(new Map([["stats/other", waits]]));
      encodeValue({ between: "x".repeat(40 * waits) });
      await Promise.resolve();
    });
    assert.is(waits, Math.ceil(n / s), `${n} rows: a wait a slice`);
    assert.equal(Array.from(sliced), Array.from(whole), `${n} rows`);
    assert.equal(decodeIndex(sliced)!.rows, rows(n));
  }
});

test("the positions file reads back as written, and is the general encoder's bytes of its rows", () => {
  for (const n of [0, 1, 17, 70_000]) {
    const positions = new Map<string, number>();
    for (let i = 0; i < n; i++) positions.set(`bars/sym-${i}`, i === 0 ? 2 ** 45 : i * 3);
    const bytes = encodePositions(positions);
    assert.equal([...decodePositions(bytes)!], [...positions]);
    const body = encodeValue({ v: 1, streams: [...positions] });
    assert.equal(Array.from(bytes.subarray(8)), Array.from(body), `${n} streams: the same bytes`);
  }
});

test.run();
