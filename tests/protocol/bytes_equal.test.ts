import { suite } from "uvu";
import * as assert from "uvu/assert";
import { bytesEqual, bytesEqualAt } from "../../protocol/mod.ts";

const test = suite("bytes equal");

test("bytesEqual() compares contents, not views, and lengths first", () => {
  const buf = new Uint8Array([1, 2, 3, 1, 2, 3]);
  assert.ok(bytesEqual(buf.subarray(0, 3), buf.subarray(3, 6)));
  assert.ok(bytesEqual(buf, buf));
  assert.ok(bytesEqual(new Uint8Array(0), new Uint8Array(0)));
  assert.not.ok(bytesEqual(buf.subarray(0, 3), buf.subarray(0, 2)));
  assert.not.ok(bytesEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])));
});

test("bytesEqual() finds a difference in any word or in the tail of a large aligned payload", () => {
  for (const n of [64, 67, 1700]) {
    const a = new Uint8Array(n).map((_, i) => i * 7);
    for (const at of [0, 3, n >> 1, n - 1]) {
      const b = a.slice();
      assert.ok(bytesEqual(a, b), `${n} bytes equal`);
      b[at]! ^= 0x10;
      assert.not.ok(bytesEqual(a, b), `${n} bytes, byte ${at} differs`);
    }
    const shifted = new Uint8Array(n + 1);
    shifted.set(a, 1); // unaligned: the byte loop
    assert.ok(bytesEqual(a, shifted.subarray(1)));
  }
});

test("bytesEqualAt() finds a needle at an offset and is false past the end", () => {
  const buf = new Uint8Array([9, 9, 4, 5, 6]);
  assert.ok(bytesEqualAt(new Uint8Array([4, 5]), buf, 2));
  assert.not.ok(bytesEqualAt(new Uint8Array([4, 5]), buf, 3));
  assert.not.ok(bytesEqualAt(new Uint8Array([6, 7]), buf, 4));
  assert.not.ok(bytesEqualAt(new Uint8Array([9]), buf, -1));
});

test.run();
