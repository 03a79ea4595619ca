import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeInputRecord, encodeInputRecord, keptUtf8 } from "../../protocol/mod.ts";

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
