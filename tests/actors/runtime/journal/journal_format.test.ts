/**
 * The journal's index and positions files (_journal_format.ts): written piece by piece, they read
 * back as what was written, and are the bytes the general encoder made of the same rows (files
 * written before read as ever), also past 65,536 streams (msgpack's 32-bit array header).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeIndex,
  decodePositions,
  encodeIndex,
  encodePositions,
  getU32,
  type StreamExtent,
} from "../../../../actors/runtime/journal/_journal_format.ts";
import { encodeValue } from "../../../../protocol/mod.ts";

const test = suite("journal_format");

function streams(n: number): Map<string, StreamExtent> {
  const m = new Map<string, StreamExtent>();
  for (let i = 0; i < n; i++) {
    const first = i === 1 ? 2 ** 40 + 3 : 1 + i * 7;
    m.set(i === 2 ? "anomaly/température-2" : `stats/node-${i}`, {
      first,
      last: first + (i % 5),
      count: 1 + (i % 5),
    });
  }
  return m;
}

test("an index reads back as written, and is the general encoder's bytes of its rows", () => {
  for (const n of [0, 3, 15, 16, 70_000]) {
    const index = { bytes: 64 << 20, records: 5 * n + 1, streams: streams(n) };
    const bytes = encodeIndex(index);
    const back = decodeIndex(bytes)!;
    assert.ok(back, `${n} streams`);
    assert.is(back.bytes, index.bytes);
    assert.is(back.records, index.records);
    assert.equal([...back.streams], [...index.streams], `${n} streams`);
    const rows = [...index.streams].map(([name, e]) => [name, e.first, e.last, e.count]);
    const body = encodeValue({ v: 1, bytes: index.bytes, records: index.records, streams: rows });
    assert.equal(Array.from(bytes.subarray(8)), Array.from(body), `${n} streams: the same bytes`);
    assert.is(getU32(bytes, 0), getU32(encodeIndex({ ...index, streams: new Map() }), 0));
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
