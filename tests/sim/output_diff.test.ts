import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeAnomalyColumns, encodeColumns, encodeEnvelope } from "../../protocol/mod.ts";
import { OutputDiff } from "../../sim/mod.ts";

const test = suite("output diff");

const T0 = 1_700_000_000_000_000;

function event(id: string, type: string, ts: number, body: unknown): Uint8Array {
  return encodeEnvelope({ id, type, src: "test", ts, body });
}

/** An anomaly body on channel cpu with `score`. */
function anomalyBody(score: number) {
  return { channel: "cpu", score, value: 3, expected: 1, lower: 0, upper: 2 };
}

function columns(id: string, key: string, t: number[], score: number[]): Uint8Array {
  return encodeColumns(
    {
      channel: key,
      seq0: 0,
      t: new Float64Array(t),
      columns: { score: new Float64Array(score) },
    },
    { id, src: "test", cause: "in" },
  );
}

test("events are matched per key by type and time: appeared, disappeared, changed and the same", () => {
  const d = new OutputDiff();
  const a = "troupe.out.anomaly.cpu";
  d.recorded(a, event("r1", "anomaly", T0, anomalyBody(0.9)));
  d.recorded(a, event("r2", "anomaly", T0 + 5, anomalyBody(0.6)));
  d.recorded(a, event("r3", "anomaly", T0 + 9, anomalyBody(0.7)));
  // The replay's ids differ, its events come in another order and a body's fields too: none matters.
  d.replayed(a, event("x3", "anomaly", T0 + 9, { ...anomalyBody(0.75), channel: "cpu" }));
  d.replayed(
    a,
    event("x1", "anomaly", T0, {
      upper: 2,
      lower: 0,
      expected: 1,
      value: 3,
      score: 0.9,
      channel: "cpu",
    }),
  );
  d.replayed(a, event("x4", "anomaly", T0 + 7, anomalyBody(0.45)));
  d.replayed(
    "troupe.out.coherence.eq",
    event("c", "coherence", T0, {
      group: "eq",
      state: "coherent",
      from: "normal",
      ratio: 0.8,
      shift: 1.5,
      top_channels: [],
    }),
  );
  const report = d.finish(["stats"]);
  assert.is(report.same, false);
  assert.equal(report.kinds.map((k) => k.kind), ["anomaly", "coherence", "stats"]);
  const anomaly = report.kinds[0]!;
  assert.is(anomaly.eventsRecorded, 3);
  assert.is(anomaly.eventsReplayed, 3);
  assert.is(anomaly.eventsSame, 1);
  assert.is(anomaly.eventsChanged, 1);
  assert.equal(anomaly.disappeared.map((i) => [i.channel, i.ts, i.score]), [["cpu", T0 + 5, 0.6]]);
  assert.equal(anomaly.appeared.map((i) => [i.channel, i.ts, i.score]), [["cpu", T0 + 7, 0.45]]);
  const coherence = report.kinds[1]!;
  assert.equal(coherence.appeared.map((i) => [i.channel, i.state, i.score]), [[
    "eq",
    "coherent",
    1.5,
  ]]);
  assert.equal(report.kinds[2]!.eventsRecorded, 0);
});

test("an anomaly event recorded before events named their view is the same as one equal but for it", () => {
  const d = new OutputDiff();
  const a = "troupe.out.anomaly.cpu";
  d.recorded(a, event("r1", "anomaly", T0, anomalyBody(0.9)));
  d.recorded(a, event("r2", "anomaly", T0 + 5, { ...anomalyBody(0.6), view: "jump" }));
  d.recorded(a, event("r3", "anomaly", T0 + 9, anomalyBody(0.7)));
  d.replayed(a, event("x1", "anomaly", T0, { ...anomalyBody(0.9), view: "time_of_day" }));
  // Both name a view: a different one is a change.
  d.replayed(a, event("x2", "anomaly", T0 + 5, { ...anomalyBody(0.6), view: "flat_run" }));
  // Without its view, still another body: a change.
  d.replayed(a, event("x3", "anomaly", T0 + 9, { ...anomalyBody(0.75), view: "shift" }));
  const anomaly = d.finish().kinds[0]!;
  assert.is(anomaly.eventsSame, 1);
  assert.is(anomaly.eventsChanged, 2);
});

test("per-sample outputs are compared per key as whole series, however they were framed", () => {
  const d = new OutputDiff();
  const s = "troupe.out.anomaly.";
  d.recorded(`${s}a`, columns("1", "a", [1, 2, 3], [0.1, 0.2, 0.3]));
  d.replayed(`${s}a`, columns("9", "a", [1], [0.1]));
  d.replayed(`${s}a`, columns("8", "a", [2, 3], [0.2, 0.3]));
  d.recorded(`${s}b`, columns("2", "b", [1, 2], [0.1, 0.2]));
  d.replayed(`${s}b`, columns("7", "b", [1, 2], [0.1, 0.25]));
  d.recorded(`${s}c`, columns("3", "c", [1], [0.5]));
  const report = d.finish();
  const k = report.kinds[0]!;
  assert.is(k.seriesKeys, 3);
  assert.is(k.seriesSame, 1);
  assert.equal(k.seriesChanged, ["b", "c"]);
  assert.is(report.same, false);
  const same = new OutputDiff();
  same.recorded(`${s}a`, columns("1", "a", [1, 2], [0.1, 0.2]));
  same.replayed(`${s}a`, columns("2", "a", [1, 2], [0.1, 0.2]));
  assert.is(same.finish().same, true);
});

test("the anomaly band recorded as its edges (before issue 33) is the same as sent as its half-width", () => {
  const t = new Float64Array([T0, T0 + 1, T0 + 2]);
  const score = new Float64Array([0.1, 0.2, 0.9]), value = new Float64Array([1, 2, 9]);
  const expected = new Float64Array([1.1, 2.3, 2.9]), spread = new Float64Array([0.3, 0.7, 1.1]);
  const lower = expected.map((e, i) => e - spread[i]!),
    upper = expected.map((e, i) => e + spread[i]!);
  const meta = { id: "o", src: "test" };
  const a = "troupe.out.anomaly.cpu";
  const d = new OutputDiff();
  d.recorded(
    a,
    encodeColumns(
      { channel: "cpu", seq0: 0, t, columns: { score, expected, lower, upper, value } },
      meta,
    ),
  );
  d.replayed(
    a,
    encodeAnomalyColumns({ channel: "cpu", seq0: 0, t, score, expected, spread, value }, meta),
  );
  assert.equal(d.finish().kinds[0]!.seriesChanged, []);
  // An edge a few bits off is a change.
  const d2 = new OutputDiff();
  const off = upper.slice();
  off[1] = off[1]! + Number.EPSILON * 4;
  d2.recorded(
    a,
    encodeColumns({
      channel: "cpu",
      seq0: 0,
      t,
      columns: { score, expected, lower, upper: off, value },
    }, meta),
  );
  d2.replayed(
    a,
    encodeAnomalyColumns({ channel: "cpu", seq0: 0, t, score, expected, spread, value }, meta),
  );
  assert.equal(d2.finish().kinds[0]!.seriesChanged, ["cpu"]);
});

test.run();
