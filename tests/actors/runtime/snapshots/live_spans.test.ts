/**
 * What a packed store's compaction reads (_live_spans.ts): a segment's live records in spans by
 * offset, each within its bound but a record longer than it, every record once; a span read into
 * reused memory gives each record's bytes; and compactions that meet saves waiting (saves fired
 * together, a segment a few records long) leave every stream's newest snapshot, through
 * reopening.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type LiveRecord,
  liveRecordOf,
  liveSpans,
  SpanReader,
} from "../../../../actors/runtime/snapshots/_live_spans.ts";
import { RECORD_HEAD } from "../../../../actors/runtime/snapshots/_packed_record.ts";
import { PackedSnapshotStore, type Snapshot } from "../../../../actors/runtime/snapshots/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("live_spans");

const rec = (stream: string, start: number, bytes: number): LiveRecord => ({
  stream,
  start,
  bytes,
  nameLen: stream.length,
});

test("live records in spans by offset, within the bound, a longer record alone", () => {
  const records = [
    rec("c", 300, 100),
    rec("a", 0, 100),
    rec("big", 1000, 900),
    rec("b", 150, 100),
    rec("d", 450, 60),
    rec("e", 2000, 10),
  ];
  const spans = liveSpans(records, 500);
  assert.equal(spans.map((s) => s.map((r) => r.stream)), [["a", "b", "c"], ["d"], ["big"], ["e"]]);
  for (const span of spans) {
    const first = span[0]!, last = span[span.length - 1]!;
    assert.ok(span.length === 1 || last.start + last.bytes - first.start <= 500);
  }
  assert.equal(liveSpans([], 500), []);
  assert.equal(liveSpans([rec("x", 5, 2000)], 500), [[rec("x", 5, 2000)]]);
  const hint = { crc: 7, version: 1, pos: 9, meta: { srcPos: 3 } };
  assert.equal(liveRecordOf("s", { at: 140, len: 60, head: 40, hint }), {
    stream: "s",
    start: 100,
    bytes: 100,
    nameLen: 40 - RECORD_HEAD,
    hint,
  });
});

test("a span is read into memory reused from span to span", async () => {
  const dir = tempDir();
  const path = join(dir.path, "seg");
  const file = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
  writeFileSync(path, file);
  const fd = openSync(path, "r");
  try {
    const reader = new SpanReader();
    const span = [rec("a", 10, 30), rec("b", 100, 50), rec("c", 4000, 1000)];
    const group = await reader.read(fd, span);
    assert.equal(group.entries, [
      { stream: "a", bytes: 30, nameLen: 1, hint: undefined },
      { stream: "b", bytes: 50, nameLen: 1, hint: undefined },
      { stream: "c", bytes: 1000, nameLen: 1, hint: undefined },
    ]);
    assert.is(group.bytes, 1080);
    assert.equal(
      group.parts.map((p) => [...p]),
      span.map((r) => [...file.slice(r.start, r.start + r.bytes)]),
    );
    const first = group.parts[0]!.buffer;
    const again = await reader.read(fd, [rec("d", 20, 10)]);
    assert.is(again.parts[0]!.buffer, first, "the same memory");
    assert.equal([...again.parts[0]!], [...file.slice(20, 30)]);
    const past = await reader.read(fd, [rec("past", 4990, 100)]).then(() => "", (e) => e.message);
    assert.match(past, /10 of the 100 bytes at 4990 read: the file ends/);
  } finally {
    closeSync(fd);
    dir.remove();
  }
});

function snap(stream: string, pos: number): Snapshot {
  const kernel = Uint8Array.from({ length: 150 }, (_, i) => (pos * 13 + i) & 0xff);
  return { stream, version: 1, pos, machine: { n: pos }, kernel };
}

test("compactions amid waiting saves keep every stream's newest snapshot", async () => {
  const dir = tempDir();
  try {
    const streams = Array.from({ length: 30 }, (_, i) => `anomaly/s${i}`);
    const store = await PackedSnapshotStore.open(dir.path, { segmentBytes: 8192 });
    const saves: Promise<void>[] = [];
    for (let round = 1; round <= 20; round++) {
      for (const s of streams) saves.push(store.save(snap(s, round)));
      if (round % 5 === 0) await Promise.all(saves); // a pause: the writer compacts then
    }
    await Promise.all(saves);
    for (const s of streams) assert.equal(await store.load(s), snap(s, 20), s);
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path, { segmentBytes: 8192 });
    for (const s of streams) assert.equal(await again.load(s), snap(s, 20), s);
    await again.close();
  } finally {
    dir.remove();
  }
});

test.run();
