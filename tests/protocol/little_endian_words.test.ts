/**
 * Typed arrays to and from little-endian bytes (protocol/little_endian_words.ts): the bytes are a
 * DataView's, value for value, at any offset, with the values past an array's end left as the
 * output holds them; what is read back is the same to the bit (-0 and NaN payloads included).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  borrowFloat64s,
  readWords,
  readWordsInto,
  type Words,
  writeWords,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("little_endian_words");

/** The bytes a DataView writes for `a`'s values, little-endian. */
function viaDataView(a: Words): Uint8Array {
  const out = new Uint8Array(a.length * a.BYTES_PER_ELEMENT);
  const view = new DataView(out.buffer);
  a.forEach((v, i) => {
    const at = i * a.BYTES_PER_ELEMENT;
    if (a instanceof Float64Array) view.setFloat64(at, v, true);
    else if (a instanceof Int32Array) view.setInt32(at, v, true);
    else view.setUint32(at, v, true);
  });
  return out;
}

function samples(): Words[] {
  const rng = new Prng(7);
  const f = Float64Array.from({ length: 37 }, () => rng.normal() * 1e6);
  f[3] = -0;
  f[4] = Infinity;
  f[5] = NaN;
  // A NaN with a payload of its own: its bits must come through as they are.
  new DataView(f.buffer).setUint32(6 * 8, 0x7ff8_1234, true);
  new DataView(f.buffer).setUint32(6 * 8 + 4, 0x7ff0_0abc, true);
  const i = Int32Array.from({ length: 33 }, () => rng.nextUint32() | 0);
  const u = Uint32Array.from({ length: 29 }, () => rng.nextUint32());
  return [f, i, u];
}

test("writes a DataView's bytes at any offset, and reads them back to the bit", () => {
  for (const a of samples()) {
    const size = a.BYTES_PER_ELEMENT;
    for (const at of [0, 3, 8, 13]) {
      const out = new Uint8Array(at + a.length * size + 5).fill(0xee);
      const end = writeWords(out, at, a);
      assert.is(end, at + a.length * size);
      assert.equal(out.subarray(at, end), viaDataView(a), `${a.constructor.name} at ${at}`);
      assert.equal([...out.subarray(0, at)], new Array(at).fill(0xee), "bytes before kept");
      const back = readWords(a.constructor as never, out, at, a.length) as Words;
      assert.equal(new Uint8Array(back.buffer), new Uint8Array(a.buffer.slice(0)), "read back");
    }
  }
});

test("a count past the array's end leaves the output's bytes there; a view writes its own values", () => {
  const a = Float64Array.from([1.5, -2.25, 3]);
  const out = new Uint8Array(8 * 5);
  assert.is(writeWords(out, 0, a.subarray(1), 4), 32);
  assert.equal(out.subarray(0, 16), viaDataView(a.subarray(1)));
  assert.equal([...out.subarray(16)], new Array(24).fill(0));
  const read = readWords(Float64Array, out, 0, 3);
  assert.equal([...read], [-2.25, 3, 0]);
  assert.is(read.byteOffset, 0, "a fresh array");
});

test("reads into an array's start, and lends float64s in place or in one shared copy, to the bit", () => {
  const [f] = samples() as [Float64Array];
  const bits = (a: Float64Array) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
  for (const at of [0, 3, 8, 13]) {
    const out = new Uint8Array(at + f.byteLength + 8);
    writeWords(out, at, f);
    const into = new Float64Array(f.length + 2).fill(7);
    readWordsInto(into, out, at, f.length);
    assert.equal(bits(into.subarray(0, f.length)), bits(f), `into, at ${at}`);
    assert.equal([...into.subarray(f.length)], [7, 7], "past the values, as it was");
    const lent = borrowFloat64s(out, at, f.length);
    assert.equal(bits(lent), bits(f), `lent, at ${at}`);
    // Where the bytes lie on an 8-byte boundary, the lent array is a view of them.
    assert.is(lent.buffer === out.buffer, at % 8 === 0, `in place at ${at}`);
  }
  // Lent copies share one array: the next call's values replace the last's.
  const a = new Uint8Array(17), b = new Uint8Array(17);
  writeWords(a, 1, Float64Array.of(1, 2));
  writeWords(b, 1, Float64Array.of(3, 4));
  const first = borrowFloat64s(a, 1, 2);
  assert.equal([...first], [1, 2]);
  const second = borrowFloat64s(b, 1, 2);
  assert.equal([...second], [3, 4]);
  assert.is(first.buffer, second.buffer);
});

test.run();
