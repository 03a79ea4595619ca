/**
 * The frames a threaded host's main thread hands a thread between two posts
 * (actors/runtime/threaded/_handed_batch.ts): copied, each at an offset that is a multiple of 8, into one
 * buffer a batch (not one a frame), sized from the batch before, and carried whole through a real
 * MessagePort with that buffer transferred.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { MessageChannel } from "node:worker_threads";
import {
  HANDED_BUFFER_BYTES_MAX,
  HandedBatch,
} from "../../../../actors/runtime/threaded/_handed_batch.ts";
import type { HandedFrames } from "../../../../actors/runtime/threaded/_host_thread_wire.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("handed batch");

/** `n` frames of seeded lengths and bytes, each a view into a larger buffer, as nats.js gives. */
function frames(seed: number, n: number, lenMax: number): Uint8Array[] {
  const rand = new Prng(seed);
  const read = new Uint8Array(n * (lenMax + 3));
  for (let i = 0; i < read.length; i++) read[i] = rand.nextUint32() & 255;
  const out: Uint8Array[] = [];
  let at = 1;
  for (let i = 0; i < n; i++) {
    const len = 1 + (rand.nextUint32() % lenMax);
    out.push(read.subarray(at, at + len));
    at += len + 1 + (rand.nextUint32() & 1);
  }
  return out;
}

test("a batch's frames are copies in one buffer, each at a multiple of 8, the next batch sized from it", () => {
  const seed = 36;
  const batch = new HandedBatch();
  const first = frames(seed, 5, 9000);
  for (const [i, f] of first.entries()) batch.add(`s${i}`, f);
  assert.is(batch.size, 5);
  const one = batch.take();
  assert.is(batch.size, 0);
  assert.equal(one.frames.s, ["s0", "s1", "s2", "s3", "s4"]);
  // The first batch has no size to go by: a buffer for each frame that does not fit.
  for (const [i, d] of one.frames.d.entries()) {
    assert.equal([...d], [...first[i]!], `seed ${seed}, frame ${i}`);
    assert.is(d.byteOffset % 8, 0, `seed ${seed}, frame ${i} at ${d.byteOffset}`);
    assert.ok(one.transfer.includes(d.buffer), `frame ${i}'s buffer is transferred`);
  }
  // Its copies are the batch's own: the client's read buffer changing does not change them.
  first[0]!.fill(0);
  assert.ok(one.frames.d[0]!.some((b) => b !== 0));
  // A batch no larger than the one before fits in one buffer.
  const second = frames(seed + 1, 5, 9000);
  for (const [i, f] of second.entries()) batch.add(`t${i}`, f.subarray(0, first[i]!.length));
  const two = batch.take();
  assert.is(two.transfer.length, 1, `seed ${seed}: ${two.transfer.length} buffers`);
  for (const d of two.frames.d) assert.is(d.buffer, two.transfer[0]);
  // A lone small frame's buffer is sized from the batch before, at most HANDED_BUFFER_BYTES_MAX;
  // the next one's from that lone frame.
  batch.add("u", new Uint8Array(16).fill(7));
  const three = batch.take();
  assert.ok(three.transfer[0]!.byteLength <= HANDED_BUFFER_BYTES_MAX);
  batch.add("v", new Uint8Array(24).fill(9));
  const four = batch.take();
  assert.ok(four.transfer[0]!.byteLength <= 64, `${four.transfer[0]!.byteLength} bytes`);
  assert.equal([...four.frames.d[0]!], new Array(24).fill(9));
});

test("a batch posted through a MessagePort arrives whole, its frames views of one transferred buffer", async () => {
  const batch = new HandedBatch();
  const sent = frames(7, 4, 2000);
  // A first batch, so that the second is sized to fit in one buffer.
  for (const f of sent) batch.add("warm", f);
  batch.take();
  for (const [i, f] of sent.entries()) batch.add(`troupe-feed-${i}`, f);
  const { frames: posted, transfer } = batch.take();
  assert.is(transfer.length, 1);
  const { port1, port2 } = new MessageChannel();
  try {
    const got = new Promise<HandedFrames>((resolve) => port2.once("message", resolve));
    port1.postMessage(posted, transfer);
    assert.is(transfer[0]!.byteLength, 0, "the buffer is transferred, not copied");
    const m = await got;
    assert.equal(m.s, sent.map((_, i) => `troupe-feed-${i}`));
    assert.is(m.d.length, sent.length);
    for (const [i, d] of m.d.entries()) {
      assert.equal([...d], [...sent[i]!], `frame ${i}`);
      assert.is(d.buffer, m.d[0]!.buffer, `frame ${i} shares the one buffer`);
    }
  } finally {
    port1.close();
    port2.close();
  }
});

test.run();
