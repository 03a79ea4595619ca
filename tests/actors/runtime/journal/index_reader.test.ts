/**
 * A sealed segment's index file read straight into its table of streams (_index_reader.ts): the
 * index writer's bytes read as the general decoder reads them, stream for stream and number for
 * number, also past 65,536 streams and with a name met before by its bytes; a body in another
 * shape is read by the general decoder; a damaged one, or one of a segment of another size, reads
 * as nothing and registers no stream.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeIndex,
  encodeIndex,
  type IndexRow,
  indexStreams,
} from "../../../../actors/runtime/journal/_journal_format.ts";
import { readIndexFile } from "../../../../actors/runtime/journal/_index_reader.ts";
import { JournalStreams } from "../../../../actors/runtime/journal/_journal_streams.ts";
import type { SegmentStreams } from "../../../../actors/runtime/journal/_segment_streams.ts";
import { crc32 } from "../../../../actors/runtime/journal/crc32.ts";
import { encodeValue } from "../../../../protocol/mod.ts";

const test = suite("index_reader");

function rows(n: number): IndexRow[] {
  const out: IndexRow[] = [];
  for (let i = 0; i < n; i++) {
    const first = i === 1 ? 2 ** 40 + 3 : 1 + i * 7;
    const name = i === 2 ? "anomaly/température-2" : i === 3 ? "x".repeat(300) : `stats/node-${i}`;
    out.push([name, first, first + (i % 5), 1 + (i % 300)]);
  }
  return out;
}

/** The table's rows by name. */
function rowsOf(t: SegmentStreams): IndexRow[] {
  const out: IndexRow[] = [];
  for (let r = 0; r < t.size; r++) out.push([t.name(r), t.first(r), t.last(r), t.count(r)]);
  return out;
}

/** An index file of `body`, sealed as the writer seals one. */
function sealed(body: Uint8Array, like: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  out.set(like.subarray(0, 4));
  new DataView(out.buffer).setUint32(4, crc32(body), true);
  out.set(body, 8);
  return out;
}

function written(n: number): Uint8Array {
  const numbers = new JournalStreams();
  return encodeIndex({
    bytes: 64 << 20,
    records: 3 * n + 1,
    streams: indexStreams(rows(n), numbers),
  });
}

test("the writer's index reads as the general decoder reads it", () => {
  for (const n of [0, 4, 15, 16, 70_000]) {
    const file = written(n);
    const streams = new JournalStreams();
    // A stream met before by its name, and one by its bytes: both found, not registered again.
    streams.intern("stats/node-0");
    const known = new TextEncoder().encode("stats/node-4");
    if (n > 4) streams.named(known, 0, known.length);
    const read = readIndexFile(file, streams)!;
    assert.ok(read, `${n} streams`);
    assert.is(read.bytes, 64 << 20);
    assert.is(read.records, 3 * n + 1);
    assert.equal(rowsOf(read.streams), decodeIndex(file)!.rows, `${n} streams`);
    assert.equal(streams.names().length, Math.max(n, 1), `${n} streams registered once each`);
    if (n > 4) assert.is(read.streams.id(4), streams.get("stats/node-4")!.id);
  }
});

test("an index in another shape is read by the general decoder", () => {
  const like = written(3);
  // Keys in another order and one more: the same index to the general decoder.
  const body = encodeValue({ streams: rows(3), note: "x", records: 10, v: 1, bytes: 99 });
  const streams = new JournalStreams();
  const read = readIndexFile(sealed(body, like), streams)!;
  assert.ok(read);
  assert.is(read.bytes, 99);
  assert.is(read.records, 10);
  assert.equal(rowsOf(read.streams), rows(3));
});

test("a damaged index reads as nothing and registers no stream", () => {
  const file = written(20);
  const streams = new JournalStreams();
  const flipped = file.slice();
  flipped[flipped.length - 3]! ^= 0x40;
  assert.is(readIndexFile(flipped, streams), undefined, "its CRC");
  // Sealed, but not an index the general decoder takes: a version it does not know, a count not
  // an integer part way through the rows, rows cut short.
  const bad = [
    encodeValue({ v: 2, bytes: 1, records: 1, streams: rows(3) }),
    encodeValue({ v: 1, bytes: 1, records: 1, streams: [...rows(3), ["late", 1, 2, 1.5]] }),
    file.subarray(8, file.length - 5),
  ];
  for (const body of bad) assert.is(readIndexFile(sealed(body, file), streams), undefined);
  // Whole, but of a segment of another size (the segment is then read instead).
  assert.is(readIndexFile(file, streams, (64 << 20) + 1), undefined, "another segment's size");
  assert.ok(readIndexFile(file, new JournalStreams(), 64 << 20), "its segment's size");
  assert.equal(streams.names(), []);
});

test.run();
