/**
 * Counts saved in a byte or two (protocol/saved_counts.ts): whole numbers from 0 to 2^53 − 2 as
 * the LEB128 of one more, anything else as an escape and its eight bytes; read back to the bit
 * (−0, NaN payloads, infinities, fractions and negatives included), at any offset, in the length
 * bytes the writer says it took. Bytes cut short or too long a number are named.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readSavedCounts, writeSavedCounts } from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("saved_counts");

/** The bits of each value, so that −0 and NaN payloads compare. */
function bits(a: Float64Array): string[] {
  const view = new DataView(a.buffer, a.byteOffset, a.byteLength);
  return Array.from(a, (_, i) => view.getBigUint64(8 * i, true).toString(16));
}

function roundTrip(a: Float64Array, offset = 0): Uint8Array {
  const out = new Uint8Array(offset + 9 * a.length + 3).fill(0xaa);
  const n = writeSavedCounts(out, offset, a) - offset;
  assert.ok(out.subarray(offset + n).every((b) => b === 0xaa), "writes nothing past its end");
  const back = new Float64Array(a.length);
  assert.is(readSavedCounts(out, offset, offset + n, back), offset + n);
  assert.equal(bits(back), bits(a));
  return out.subarray(offset, offset + n);
}

test("small counts take a byte each, larger ones a byte more each 7 bits", () => {
  assert.equal(Array.from(roundTrip(Float64Array.of(0, 1, 126, 127))), [1, 2, 127, 0x80, 1]);
  for (const [v, n] of [[0, 1], [126, 1], [127, 2], [16_382, 2], [16_383, 3], [2 ** 53 - 2, 8]]) {
    assert.is(roundTrip(Float64Array.of(v!)).length, n!, `${v}`);
  }
});

test("anything but a count is its eight bytes after an escape, the same bits back", () => {
  const nan = new Float64Array(1);
  new DataView(nan.buffer).setBigUint64(0, 0x7ff8_0000_dead_beefn, true);
  const odd = [-0, -1, 0.5, 1e300, Infinity, -Infinity, NaN, nan[0]!, 2 ** 53 - 1, 2 ** 60];
  for (const v of odd) {
    const a = Float64Array.of(v);
    if (v !== v) new DataView(a.buffer).setBigUint64(0, new DataView(nan.buffer).getBigUint64(0));
    const saved = roundTrip(a);
    assert.is(saved.length, 9, `${v}`);
    assert.is(saved[0], 0, `${v}: the escape`);
  }
});

test("random mixes at any offset come back to the bit", () => {
  const rng = new Prng(11);
  for (let round = 0; round < 200; round++) {
    const a = Float64Array.from({ length: rng.int(400) }, () => {
      const r = rng.next();
      if (r < 0.5) return 0;
      if (r < 0.8) return rng.int(200);
      if (r < 0.95) return rng.int(2 ** 40);
      return rng.normal() * 1e3;
    });
    roundTrip(a, rng.int(17));
  }
});

test("bytes cut short, or a number longer than a count's, are named", () => {
  const saved = roundTrip(Float64Array.of(3, 300, 0.25));
  const into = new Float64Array(3);
  for (let end = 0; end < saved.length; end++) {
    assert.throws(() => readSavedCounts(saved, 0, end, into), /count \d of 3 runs past the bytes/);
  }
  const long = new Uint8Array(10).fill(0xff);
  assert.throws(
    () => readSavedCounts(long, 0, 10, new Float64Array(1)),
    /count 0 of 1 .* too long/,
  );
  const over = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10);
  assert.throws(() => readSavedCounts(over, 0, 8, new Float64Array(1)), /too long/);
});

test.run();
