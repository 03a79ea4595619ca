/**
 * A feed batch handed to every partition of a leased process is decoded once: the edges after the
 * first take the same decoding (the same channel names), for the same bytes under the same limit;
 * equal bytes in another buffer, or another limit, are decoded afresh; a malformed batch is refused
 * to every edge with its decoding's error.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeFeedBatch, encodeFeedBatch, ProtocolError } from "../../../../protocol/mod.ts";
import { decodeFeedBatchOnce } from "../../../../actors/runtime/edge/_batch_once.ts";

function batch(id: string): Uint8Array {
  const channels = ["cpu_a", "cpu_b", "mem_c"];
  return encodeFeedBatch(
    {
      channels,
      n: Uint32Array.of(1, 2, 1),
      t: Float64Array.of(1e15, 1e15, 2e15, 1e15),
      v: Float64Array.of(1, 2, 3, 4),
    },
    { id, src: "test", ts: 1 },
  );
}

test("the same message is decoded once; equal bytes elsewhere, or another limit, again", () => {
  const bytes = batch("b1");
  const first = decodeFeedBatchOnce(bytes, {});
  assert.equal(first, decodeFeedBatch(bytes, {}));
  assert.is(decodeFeedBatchOnce(bytes, {}), first, "the second edge takes the same decoding");
  assert.is(decodeFeedBatchOnce(bytes, {}).batch.channels[1], first.batch.channels[1]);
  const copy = bytes.slice();
  const again = decodeFeedBatchOnce(copy, {});
  assert.is.not(again, first);
  assert.equal(again, first);
  const limited = decodeFeedBatchOnce(copy, { messageBytesMax: 1 << 20 });
  assert.is.not(limited, again);
  assert.throws(
    () => decodeFeedBatchOnce(copy, { messageBytesMax: 8 }),
    (err: unknown) => err instanceof ProtocolError,
  );
});

test("a malformed batch is refused to every edge, with its decoding's error", () => {
  const bad = batch("b2").slice(0, 20);
  let one: unknown, two: unknown;
  try {
    decodeFeedBatchOnce(bad, {});
  } catch (err) {
    one = err;
  }
  try {
    decodeFeedBatchOnce(bad, {});
  } catch (err) {
    two = err;
  }
  assert.instance(one, Error);
  assert.is(two, one);
  const good = batch("b3");
  assert.is(decodeFeedBatchOnce(good, {}).meta.id, "b3");
});

test.run();
