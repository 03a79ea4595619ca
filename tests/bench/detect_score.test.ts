import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  CHANGE_MARGIN_SAMPLES,
  f1Of,
  type Finding,
  regimeAccuracy,
  scoreAnomalies,
  scoreChanges,
} from "../../bench/_detect_score.ts";
import type { GroundTruth } from "../../sim/mod.ts";

const test = suite("bench detect scoring");
const S = 1_000_000; // one sample per second

function truth(over: Partial<GroundTruth> = {}): GroundTruth {
  return {
    feed: "t",
    options: { intervalUs: S },
    channels: ["a", "b"],
    samples: 1000,
    startUs: 0,
    endUs: 999 * S,
    anomalies: [],
    changePoints: [],
    regimes: [],
    ...over,
  };
}

function finding(kind: string, key: string, ts: number, body: Record<string, unknown> = {}) {
  return { kind, key, ts, body } satisfies Finding;
}

/** A coherence finding of `group` turning `state` from `from`, its body whole. */
function coherence(group: string, ts: number, state: string, from: string): Finding {
  return finding("coherence", group, ts, {
    group,
    state,
    from,
    ratio: 0.5,
    shift: 2,
    top_channels: [],
  });
}

/** A collapse finding whose regime began at `changeTs`, its body whole (protocol/events/). */
function collapse(key: string, ts: number, changeTs: number): Finding {
  return finding("collapse", key, ts, {
    channel: key,
    change_ts: changeTs,
    change_index: 0,
    delay_samples: Math.round((ts - changeTs) / S),
    mean_before: 1,
    mean_after: 2,
    level_before: 1,
    level_after: 2,
    spread_before: 0.1,
    spread_after: 0.1,
    direction: "up",
    severity: 10,
  });
}

const opts = { channels: ["a", "b"], intervalUs: S };

test("scoreAnomalies() counts a window found once, with its delay, and events outside as false", () => {
  const t = truth({
    anomalies: [
      { channel: "a", kind: "spike", start: 90 * S, end: 120 * S, onset: 100 * S, index: 100 },
      { channel: "b", kind: "spike", start: 400 * S, end: 420 * S, onset: 410 * S, index: 410 },
    ],
  });
  const s = scoreAnomalies(t, [
    finding("anomaly", "a", 103 * S),
    finding("anomaly", "a", 110 * S), // same window: a repeat, neither true nor false
    finding("anomaly", "b", 100 * S), // window of another channel: false
    finding("collapse", "a", 500 * S), // another kind: ignored
  ], opts);
  assert.equal([s.labels, s.found, s.events, s.falsePositives, s.repeats], [2, 1, 3, 1, 1]);
  assert.equal(s.byKind, { spike: { labels: 2, found: 1 } });
  // The false event is charged to its channel, so bench detect can give a rate per kind.
  assert.equal(s.falseByChannel, { b: 1 });
  assert.equal(s.delays, [3]);
  assert.is(s.precision, 1 / 2);
  assert.is(s.recall, 0.5);
  assert.is(s.f1, 0.5);
});

test("scoreAnomalies() scores neither events nor labels of the probationary period", () => {
  const t = truth({
    anomalies: [
      { channel: "a", kind: "spike", start: 90 * S, end: 120 * S, onset: 100 * S, index: 100 },
      { channel: "a", kind: "jump", start: 400 * S, end: 420 * S, onset: 410 * S, index: 410 },
    ],
  });
  const events = [
    finding("anomaly", "a", 50 * S),
    finding("anomaly", "a", 103 * S),
    finding("anomaly", "a", 200 * S),
    finding("anomaly", "a", 411 * S),
  ];
  const all = scoreAnomalies(t, events, opts);
  assert.equal([all.labels, all.found, all.events, all.falsePositives], [2, 2, 4, 2]);
  const s = scoreAnomalies(t, events, { ...opts, probationSamples: 150 });
  assert.equal([s.labels, s.found, s.events, s.falsePositives], [1, 1, 2, 1]);
  assert.equal(s.byKind, { jump: { labels: 1, found: 1 } });
});

test("scoreAnomalies(): firing again inside a found window buys no precision", () => {
  const t = truth({
    anomalies: [
      { channel: "a", kind: "spike", start: 90 * S, end: 120 * S, onset: 100 * S, index: 100 },
    ],
  });
  const once = scoreAnomalies(t, [
    finding("anomaly", "a", 101 * S),
    finding("anomaly", "a", 500 * S), // false
  ], opts);
  const many = scoreAnomalies(t, [
    ...[101, 105, 110, 115, 120].map((i) => finding("anomaly", "a", i * S)),
    finding("anomaly", "a", 500 * S),
  ], opts);
  assert.equal([many.found, many.falsePositives, many.repeats], [1, 1, 4]);
  assert.equal(many.byKind, { spike: { labels: 1, found: 1 } });
  assert.is(many.precision, once.precision);
  assert.is(many.precision, 0.5);
  assert.is(many.f1, once.f1);
  // The earliest event gives the delay, whatever the order they come in.
  const late = scoreAnomalies(t, [
    finding("anomaly", "a", 115 * S),
    finding("anomaly", "a", 102 * S),
  ], opts);
  assert.equal(late.delays, [2]);
  assert.equal([late.precision, late.recall, late.f1], [1, 1, 1]);
});

test("scoreChanges() matches a regime start in the change's window, apart at other labels", () => {
  const t = truth({
    changePoints: [
      { channel: "a", kind: "level_shift", index: 200, time: 200 * S },
      { channel: "b", kind: "crash", index: 600, time: 600 * S },
    ],
    anomalies: [
      {
        channel: "a",
        kind: "level_shift",
        start: 150 * S,
        end: 260 * S,
        onset: 200 * S,
        index: 200,
      },
      { channel: "a", kind: "flatline", start: 700 * S, end: 800 * S, onset: 720 * S, index: 720 },
    ],
  });
  const s = scoreChanges(t, [
    collapse("a", 205 * S, 199 * S),
    collapse("a", 230 * S, 220 * S), // same change again: a repeat
    collapse("a", 740 * S, 730 * S), // at a flatline: apart
    collapse("a", 900 * S, 890 * S), // near nothing: false
    collapse("b", 640 * S, (600 + CHANGE_MARGIN_SAMPLES + 1) * S),
  ], opts);
  assert.equal(
    [s.labels, s.found, s.events, s.falsePositives, s.elsewhere, s.repeats],
    [2, 1, 5, 2, 1, 1],
  );
  assert.equal(s.delays, [5]);
  // Only change points are expected of collapse: the flatline is no label of its own here.
  assert.equal(s.byKind, { level_shift: { labels: 1, found: 1 }, crash: { labels: 1, found: 0 } });
  assert.is(s.precision, 1 / 3);
  assert.is(s.recall, 0.5);
});

test("f1Of() counts one true positive per label found", () => {
  assert.equal(f1Of(3, 1, 4), { precision: 0.75, recall: 0.75, f1: 0.75 });
  // No events: precision 0 when there was something to find, 1 when not.
  assert.equal(f1Of(0, 0, 5), { precision: 0, recall: 0, f1: 0 });
  assert.equal(f1Of(0, 0, 0), { precision: 1, recall: 1, f1: 1 });
  assert.equal(f1Of(0, 4, 0), { precision: 0, recall: 1, f1: 0 });
});

test("regimeAccuracy() is the share of time coherent exactly when stressed, against always normal", () => {
  const t = truth({
    startUs: 0,
    endUs: 1000,
    regimes: [
      { name: "calm", start: 0, end: 600 },
      { name: "stressed", start: 600, end: 1000 },
    ],
  });
  const events = [
    coherence("all", 700, "coherent", "normal"),
    coherence("all", 900, "normal", "coherent"),
    coherence("other", 100, "coherent", "normal"),
  ];
  const r = regimeAccuracy(t, events, "all");
  // Right: calm 0..600 (normal), stressed 700..900 (coherent) = 800 of 1000.
  assert.is(r.accuracy, 0.8);
  assert.is(r.baseline, 0.6);
});

test.run();
