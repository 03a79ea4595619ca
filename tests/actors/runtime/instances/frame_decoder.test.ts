import { suite } from "uvu";
import * as assert from "uvu/assert";
import { lastFrameDecoder } from "../../../../actors/runtime/instances/frame_decoder.ts";
import { decodeFrame, encodeFrame } from "../../../../protocol/mod.ts";

const test = suite("frame_decoder");

function frameBytes(channel: string, v: number): Uint8Array {
  const frame = { channel, seq0: 0, t: Float64Array.of(1e15), v: Float64Array.of(v) };
  return encodeFrame(frame, { id: `f/${channel}`, src: "test", ts: 1e15 });
}

test("a run of records of one message is decoded once, and as decodeFrame decodes it", () => {
  const decode = lastFrameDecoder();
  const bytes = frameBytes("cpu", 1.5);
  const first = decode(bytes, 7);
  // Another record of the same message: equal bytes in another buffer.
  const again = decode(bytes.slice(), 7);
  assert.is(again, first);
  assert.equal(first.envelope, decodeFrame(bytes).envelope);
  assert.equal([...first.frame.v], [1.5]);
  assert.is(first.frame.channel, "cpu");
});

test("a message that differs by one byte is decoded afresh", () => {
  const decode = lastFrameDecoder();
  const a = frameBytes("cpu", 1.5), b = frameBytes("cpu", 2.5);
  assert.is(a.length, b.length);
  const first = decode(a, 1);
  const second = decode(b, 1);
  assert.is.not(second, first);
  assert.equal([...second.frame.v], [2.5]);
  assert.equal([...decode(a, 1).frame.v], [1.5]);
});

test("what it decoded stays right when the bytes it came from are overwritten", () => {
  const decode = lastFrameDecoder();
  const chunk = new Uint8Array(256);
  const a = frameBytes("cpu", 1.5), b = frameBytes("mem", 9);
  chunk.set(a);
  const first = decode(chunk.subarray(0, a.length), 1);
  // The journal reads its next chunk into the same buffer.
  chunk.fill(0);
  chunk.set(b);
  assert.equal([...first.frame.v], [1.5]);
  const next = decode(chunk.subarray(0, b.length), 2);
  assert.is(next.frame.channel, "mem");
  assert.equal([...next.frame.v], [9]);
});

test("a message that does not decode throws each time, and is not kept", () => {
  const decode = lastFrameDecoder();
  const good = frameBytes("cpu", 1.5);
  decode(good, 1);
  const bad = good.slice(0, good.length - 3);
  assert.throws(() => decode(bad, 2));
  assert.throws(() => decode(bad, 2));
  assert.equal([...decode(good, 1).frame.v], [1.5]);
});

test.run();
