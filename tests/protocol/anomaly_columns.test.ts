import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyBandOf,
  anomalyColumnsAsEdges,
  anomalyEdgesBytes,
  decodeAnomalyColumns,
  decodeColumns,
  encodeAnomalyColumns,
  encodeColumns,
  ProtocolError,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";
import { anomalyFrame } from "./_anomaly_frame.ts";

const test = suite("anomaly columns");
const SEED = 33;

function frame(n: number) {
  return anomalyFrame(new Prng(SEED), n);
}
const META = { id: "s:cpu-7:40:anomaly:cpu-7:c", src: "host-a", ts: 1_700_000_000_000_999 };

test("decodeAnomalyColumns(encodeAnomalyColumns(f)) gives f back, every column bit for bit", () => {
  const f = frame(50);
  const g = decodeAnomalyColumns(encodeAnomalyColumns(f, META));
  assert.is(g.channel, f.channel);
  assert.is(g.seq0, f.seq0);
  for (const k of ["t", "score", "expected", "spread", "value"] as const) {
    assert.equal(Array.from(g[k]), Array.from(f[k]), `${k} (seed ${SEED})`);
  }
});

test("an anomaly columns message is 8 bytes a sample smaller than the band as its edges", () => {
  const f = frame(500);
  const now = encodeAnomalyColumns(f, META), before = anomalyEdgesBytes(now)!;
  // 500 values less; the keys with their headers, lower and upper 6 bytes each against spread's 7,
  // and a bin16 header (3 bytes) less.
  assert.is(before.length - now.length, 8 * 500 + 6 + 6 - 7 + 3);
});

test("decodeAnomalyColumns() names a missing column, and which the frame has", () => {
  const f = frame(3);
  const bytes = encodeColumns(
    { channel: "cpu-7", seq0: 0, t: f.t, columns: { score: f.score, value: f.value } },
    META,
  );
  try {
    decodeAnomalyColumns(bytes);
    assert.unreachable("decoded");
  } catch (e) {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.is(e.field, "body.columns.expected");
    assert.match(
      e.message,
      /channel "cpu-7" \(seq0 0\) has no column "expected", got \["score","value"\]/,
    );
  }
});

test("anomalyBandOf() gives expected -+ spread, or the edges of a frame made before issue 33", () => {
  const f = frame(20);
  const band = anomalyBandOf({ expected: f.expected, spread: f.spread, value: f.value })!;
  for (let i = 0; i < 20; i++) {
    assert.is(band.lower[i], f.expected[i]! - f.spread[i]!);
    assert.is(band.upper[i], f.expected[i]! + f.spread[i]!);
  }
  assert.is(band.value, f.value);
  const lower = band.lower, upper = band.upper;
  const old = anomalyBandOf({ expected: f.expected, lower, upper, value: f.value })!;
  assert.is(old.lower, lower);
  assert.is(old.upper, upper);
  assert.is(anomalyBandOf({ expected: f.expected, value: f.value }), undefined);
});

test("anomalyEdgesBytes() writes a message as a host did before issue 33, and no other", () => {
  const f = frame(30);
  const band = anomalyBandOf({ expected: f.expected, spread: f.spread })!;
  // What a host published before: the band's edges, in this column order.
  const before = encodeColumns({
    channel: f.channel,
    seq0: f.seq0,
    t: f.t,
    columns: {
      score: f.score,
      expected: f.expected,
      lower: band.lower,
      upper: band.upper,
      value: f.value,
    },
  }, { ...META, seq: 7, cause: "c1" });
  const now = encodeAnomalyColumns(f, { ...META, seq: 7, cause: "c1" });
  assert.equal(anomalyEdgesBytes(now), before);
  assert.is(anomalyEdgesBytes(before), undefined, "already in the older form");
  assert.is(anomalyEdgesBytes(new Uint8Array([1, 2, 3])), undefined, "no message");
  const edges = anomalyColumnsAsEdges(decodeColumns(now).frame.columns);
  assert.equal(Object.keys(edges).sort(), ["expected", "lower", "score", "upper", "value"]);
  assert.equal(Array.from(edges.lower!), Array.from(band.lower));
});

test.run();
