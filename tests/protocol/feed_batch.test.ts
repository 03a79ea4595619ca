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

test("a batch's names given as bytes in pieces are written as the names joined would be", () => {
  const ascii = new TextEncoder();
  // Names joined to fewer than 32 bytes, under 256 and 65,536, and past (each str header).
  for (const count of [3, 20, 2000, 5000]) {
    const channels = Array.from({ length: count }, (_, i) => `host-${i}-metric_${i % 7}`);
    const batch = {
      channels,
      n: new Uint32Array(count).fill(1),
      t: Float64Array.from(channels, (_, i) => 1e15 + i),
      v: Float64Array.from(channels, (_, i) => i / 3),
    };
    const joined = ascii.encode(channels.join(","));
    const meta = { id: `rw-${count}`, src: "receiver", ts: 1e15 };
    const want = encodeFeedBatch(batch, meta);
    // In one piece, a piece a name (each but the first from its ","), and cut inside names.
    let end = 0;
    const each = channels.map((c, i) => (end += c.length + (i > 0 ? 1 : 0)));
    const cuts = [[], each, [1, 5, joined.length - 1]];
    for (const at of cuts) {
      const ends = [...new Set(at.filter((x) => x > 0)), joined.length].sort((a, b) => a - b);
      const names = ends.map((end, k) => joined.subarray(k === 0 ? 0 : ends[k - 1], end));
      const got = encodeFeedBatch({ ...batch, names }, meta, { namesChecked: true });
      assert.equal(got, want, `${count} channels in ${names.length} pieces`);
      assert.equal(decodeFeedBatch(got).batch.channels, channels);
    }
  }
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
