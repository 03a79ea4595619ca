import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeFeedBatch,
  encodeEnvelope,
  encodeFeedBatch,
  feedBatchSubject,
  feedOfBatchSubject,
  ProtocolError,
} from "../../protocol/mod.ts";
import { isStaleMarkerAt, setStaleMarker } from "../../protocol/prometheus/mod.ts";

const test = suite("feed batch");

test("decodeFeedBatch() reads back what encodeFeedBatch() wrote, values bit for bit", () => {
  const batch = {
    channels: ["a", "b-c", "d_e"],
    n: Uint32Array.from([2, 0, 1]),
    t: Float64Array.from([1e15, 1e15 + 1, 2e15]),
    v: Float64Array.from([1.5, -2, 0]),
  };
  setStaleMarker(batch.v, 2);
  const bytes = encodeFeedBatch(batch, { id: "rw-1", src: "receiver", ts: 2e15 });
  const { meta, batch: back } = decodeFeedBatch(bytes);
  assert.equal(meta, { id: "rw-1", src: "receiver", ts: 2e15 });
  assert.equal(back.channels, batch.channels);
  assert.equal([...back.n], [2, 0, 1]);
  assert.equal([...back.t], [...batch.t]);
  assert.equal([...back.v.subarray(0, 2)], [1.5, -2]);
  assert.ok(isStaleMarkerAt(back.v, 2));
});

test("decodeFeedBatch() refuses counts that do not sum to the columns, naming them", () => {
  const batch = {
    channels: ["a"],
    n: Uint32Array.from([3]),
    t: new Float64Array(2),
    v: new Float64Array(2),
  };
  assert.throws(() => encodeFeedBatch(batch, { id: "x", src: "s", ts: 0 }), /sum to 3 samples/);
  const bad = {
    channels: ["a.b"],
    n: Uint32Array.from([0]),
    t: new Float64Array(0),
    v: new Float64Array(0),
  };
  assert.throws(() => encodeFeedBatch(bad, { id: "x", src: "s", ts: 0 }), /channels\[0\]/);
  const bytes = encodeEnvelope({
    id: "x",
    type: "batch",
    src: "s",
    ts: 0,
    body: { channels: "ok,a.b", n: new Uint8Array(8), t: new Uint8Array(0), v: new Uint8Array(0) },
  });
  try {
    decodeFeedBatch(bytes);
    assert.unreachable("a dotted channel decoded");
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.match((e as Error).message, /body\.channels\[1\]/);
  }
});

test("feedBatchSubject() is troupe.feed.<feed>, told apart from a channel's subject", () => {
  assert.is(feedBatchSubject("prom"), "troupe.feed.prom");
  assert.is(feedOfBatchSubject("troupe.feed.prom"), "prom");
  assert.is(feedOfBatchSubject("troupe.feed.prom.cpu"), undefined);
});

test.run();
