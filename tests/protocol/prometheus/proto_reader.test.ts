/**
 * The protobuf reader's varints, keys and lengths: every length of varint read back as written
 * (one byte read on its own path, up to nine on the short one, ten for a negative int64), and
 * each fault named with where it is.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ProtoReader, ProtoWriter } from "../../../protocol/prometheus/_proto.ts";

const test = suite("proto reader");

const written = (xs: number[]): Uint8Array => {
  const w = new ProtoWriter();
  for (const x of xs) w.varint(x);
  return w.finish();
};

const faultOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return assert.unreachable("no fault") as never;
};

test("varints of 1 to 10 bytes read back as written, and the reader ends after each", () => {
  const xs = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31 + 5, 1_700_000_000_123, 2 ** 53 - 1];
  xs.push(-1, -1_700_000_000_000); // int64 two's complement: ten bytes
  const bytes = written(xs);
  const r = new ProtoReader(bytes);
  for (const x of xs) assert.is(r.varint("x"), x);
  assert.is(r.pos, bytes.length);
});

test("keys and lengths of one byte and of more read back; a field's bounds are its length", () => {
  const w = new ProtoWriter();
  w.key(1, 2); // one byte
  w.varint(3);
  w.key(2_000, 0); // two bytes
  w.varint(200); // a length of two bytes
  const bytes = new Uint8Array([...w.finish(), 1, 2, 3]);
  const r = new ProtoReader(bytes, 0, bytes.length);
  assert.is(r.key("k"), 1 << 3 | 2);
  assert.is(r.varint("v"), 3);
  assert.is(r.key("k"), 2_000 * 8);
  r.end = r.pos + 2 + 1; // room for the length and one byte
  assert.match(faultOf(() => r.len("f")), /f: a field of 200 bytes runs past the end/);
  const ok = new ProtoReader(new Uint8Array([3, 9, 9, 9, 7]));
  assert.is(ok.len("f"), 1);
  assert.is(ok.pos, 4);
  assert.is(ok.key("k"), 7);
});

test("a varint cut short at any byte, or longer than 10 bytes, is refused naming it", () => {
  const long = written([-5]); // ten bytes
  for (let n = 0; n < long.length; n++) {
    const r = new ProtoReader(long.subarray(0, n));
    assert.match(faultOf(() => r.varint("t")), /t: a varint is cut short/, `${n} bytes`);
    assert.match(faultOf(() => new ProtoReader(long.subarray(0, n)).key("k")), /cut short/);
  }
  const eleven = new Uint8Array([...new Array(10).fill(0x80), 1]);
  assert.match(faultOf(() => new ProtoReader(eleven).varint("t")), /longer than 10 bytes/);
});

test.run();
