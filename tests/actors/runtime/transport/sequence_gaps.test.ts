/**
 * A stream follower's gap filling (_sequence_gaps.ts): a consumer's deliveries come out in
 * stream order with what it skipped read from the stream first; what the stream no longer holds
 * is passed over in one read; a read that fails ends the consumer's deliveries for a new one.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type SequencedMessage,
  SequenceGaps,
} from "../../../../actors/runtime/transport/_sequence_gaps.ts";

const test = suite("sequence_gaps");

const msg = (seq: number): SequencedMessage => ({
  seq,
  subject: `troupe.feed.t.c${seq}`,
  data: new Uint8Array([seq]),
});

/** A stream holding `held` sequences; reads answer the first at or after, after a turn. */
function harness(held: number[], lastSeq = 0) {
  const delivered: number[] = [];
  const reads: number[] = [];
  const failures: unknown[] = [];
  let failNext = false;
  const gaps = new SequenceGaps(lastSeq, {
    read: async (seq) => {
      reads.push(seq);
      await new Promise((r) => setTimeout(r, 1));
      if (failNext) throw new Error("no leader");
      const at = held.find((s) => s >= seq);
      return at === undefined ? null : msg(at);
    },
    deliver: (m) => delivered.push(m.seq),
    failed: (err) => failures.push(err),
  });
  return {
    gaps,
    delivered,
    reads,
    failures,
    failReads: () => (failNext = true),
  };
}

/** Waits until `done()` (2 s at most: the machine may be loaded). */
async function until(done: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !done() && Date.now() - t0 < 2000;) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("SequenceGaps delivers a consumer's messages in order without reading", () => {
  const h = harness([1, 2, 3]);
  for (const s of [1, 2, 3]) h.gaps.push(msg(s));
  h.gaps.push(msg(2)); // a redelivery
  assert.equal(h.delivered, [1, 2, 3]);
  assert.equal(h.reads, []);
  assert.is(h.gaps.lastSeq, 3);
});

test("SequenceGaps reads what the consumer skipped before what came after it", async () => {
  const h = harness([1, 2, 3, 4, 5, 6, 7], 1);
  h.gaps.push(msg(5)); // 2-4 lost on the way
  h.gaps.push(msg(6)); // held while the gap is read
  h.gaps.push(msg(7));
  assert.equal(h.delivered, []);
  await until(() => h.delivered.length >= 6);
  assert.equal(h.delivered, [2, 3, 4, 5, 6, 7]);
  assert.equal(h.reads, [2, 3, 4]);
});

test("SequenceGaps passes over what the stream no longer holds in one read", async () => {
  const h = harness([1, 500, 501], 1); // 2-499 aged out
  h.gaps.push(msg(500));
  h.gaps.push(msg(501));
  await until(() => h.delivered.length >= 2);
  assert.equal(h.delivered, [500, 501]);
  assert.equal(h.reads, [2]);
});

test("SequenceGaps ends and reports when a gap cannot be read", async () => {
  const h = harness([1, 2, 3, 4], 1);
  h.failReads();
  h.gaps.push(msg(4));
  await until(() => h.failures.length > 0);
  assert.equal(h.delivered, []);
  assert.is(h.failures.length, 1);
  h.gaps.push(msg(2)); // the old consumer's late deliveries go nowhere
  assert.equal(h.delivered, []);
});

test.run();
