import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeInputRecord, encodeInputRecord, keptCopy, keptUtf8 } from "../../protocol/mod.ts";

const test = suite("kept_bytes");
const utf8 = new TextEncoder();

test("kept strings are their UTF-8 bytes, many of them views of one buffer", () => {
  const texts = ["", "troupe.feed.node.cpu", "ünïcødé/✓", "a".repeat(900), "x".repeat(1025)];
  for (let i = 0; i < 2000; i++) texts.push(`troupe.feed.metrics.series_${i}`);
  const kept = texts.map(keptUtf8);
  texts.forEach((t, i) => assert.equal([...kept[i]!], [...utf8.encode(t)], t.slice(0, 40)));
  const buffers = new Set(kept.map((b) => b.buffer));
  // ~64 KiB of short strings in slabs of 16 KiB, the long one in an array of its own.
  assert.ok(buffers.size <= 8, `${buffers.size} buffers for ${kept.length} strings`);
  assert.is(kept[4]!.byteOffset, 0);
  assert.is(kept[4]!.buffer.byteLength, 1025);
  // Regions never overlap: each string's bytes survive the ones carved after it.
  texts.forEach((t, i) => assert.equal(new TextDecoder().decode(kept[i]), t));
});

test("kept copies are the bytes copied out of a large buffer, in slabs of their own", () => {
  const file = new Uint8Array(1 << 20);
  for (let i = 0; i < file.length; i++) file[i] = (i * 31) & 255;
  const spans = Array.from({ length: 500 }, (_, i) => [(i * 2011) % (file.length - 2000), i % 97]);
  spans.push([5, 1500]); // longer than a slab carves
  const kept = spans.map(([at, n]) => keptCopy(file, at!, n!));
  spans.forEach(([at, n], i) => {
    assert.equal([...kept[i]!], [...file.subarray(at!, at! + n!)], `${n} bytes at ${at}`);
    assert.is.not(kept[i]!.buffer, file.buffer, "not a view of the file");
  });
  assert.ok(new Set(kept.map((b) => b.buffer)).size <= 4);
  file.fill(0); // the copies do not change with the file
  assert.is(kept[50]![3], ((50 * 2011 + 3) * 31) & 255);
});

test("records encoded with kept subjects read back the same", () => {
  for (let i = 0; i < 500; i++) {
    const record = {
      kind: "frame" as const,
      srcPos: i + 1,
      subject: `troupe.feed.m.ch${i % 37}`,
      payload: new Uint8Array([i & 255, 1, 2]),
    };
    const back = decodeInputRecord(encodeInputRecord(record));
    assert.is(back.subject, record.subject);
    assert.equal([...back.payload], [...record.payload]);
  }
});

test.run();
