/**
 * `reusingBytes` (protocol/_frame_codec.ts): inside it, `allocBytes` and `float64Copy` carve from
 * one region that the next call writes over, larger ones too, and a region outgrown keeps what was
 * carved from it; outside it, every array is fresh, and a nested call does not start the region
 * again.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { allocBytes, reusingBytes } from "../../protocol/mod.ts";
import { float64Copy } from "../../protocol/_frame_codec.ts";

const test = suite("reusingBytes");

test("a call's bytes are written over by the next call's, and by nothing else", () => {
  const first = reusingBytes(() => allocBytes(100).fill(1));
  const outside = allocBytes(100).fill(2);
  assert.ok(first.every((b) => b === 1), "kept until the next call");
  const second = reusingBytes(() => allocBytes(100).fill(3));
  assert.is(second.buffer, first.buffer);
  assert.is(second.byteOffset, first.byteOffset);
  assert.ok(first.every((b) => b === 3), "the region reused");
  assert.ok(outside.every((b) => b === 2), "bytes made outside are their own");
  assert.is.not(outside.buffer, first.buffer);
});

test("within a call, arrays do not overlap, past the region's size and nested", () => {
  const made = reusingBytes(() => {
    const out = [allocBytes(7).fill(1), allocBytes(300_000).fill(2), allocBytes(9).fill(3)];
    out.push(reusingBytes(() => allocBytes(16).fill(4)));
    const words = float64Copy(new Uint8Array(new Float64Array([1.5, -2]).buffer));
    return { out, words };
  });
  made.out.forEach((a, i) => assert.ok(a.every((b) => b === i + 1), `array ${i} intact`));
  assert.equal(Array.from(made.words), [1.5, -2]);
  for (const a of made.out) assert.is(a.byteOffset % 8, 0, "aligned");
});

test("a call that throws leaves allocBytes fresh again", () => {
  assert.throws(() =>
    reusingBytes(() => {
      allocBytes(8);
      throw new Error("boom");
    }), /boom/);
  const a = allocBytes(8).fill(5);
  reusingBytes(() => allocBytes(8).fill(6));
  assert.ok(a.every((b) => b === 5));
});

test.run();
