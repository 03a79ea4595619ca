/**
 * `troupe bench detect --explain`'s attribution (bench/_detect_explain.ts) on a hand-made feed: false
 * events by the view of their opening sample and inside the forecast's 3 sds or not, labels found
 * by kind and view of the first opening inside, labels missed with their largest score and its
 * view, counted as `scoreAnomalies` counts them; then summed over two seeds, printed and as rows.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { VIEW } from "../../actors/anomaly/mod.ts";
import {
  addExplanation,
  describeExplanation,
  emptyExplanation,
  explainAnomalies,
  explanationRows,
} from "../../bench/_detect_explain.ts";
import { scoreAnomalies } from "../../bench/_detect_score.ts";
import type { ChannelViews } from "../../bench/_view_recorder.ts";
import type { AnomalyWindow, GroundTruth } from "../../sim/mod.ts";

const test = suite("bench detect --explain");

const STEP = 60e6, N = 1000;
const OPTIONS = {
  channels: ["a", "b"],
  intervalUs: STEP,
  probationSamples: 100,
  threshold: 0.5,
  bandSigmas: 2,
};

/** A window of `kind` on `channel` over samples [from, to]. */
function window(channel: string, kind: string, from: number, to: number): AnomalyWindow {
  return { channel, kind, start: from * STEP, end: to * STEP, onset: from * STEP, index: from };
}

/**
 * A channel at 10 expected, spread 2 (1 sd at band_sigmas 2), scoring 0 but where `scored` says:
 * sample -> [score, view, value].
 */
function channel(scored: Record<number, [number, number, number]>): ChannelViews {
  const s: ChannelViews = {
    t: Float64Array.from({ length: N }, (_, i) => i * STEP),
    value: new Float64Array(N).fill(10),
    score: new Float64Array(N),
    expected: new Float64Array(N).fill(10),
    spread: new Float64Array(N).fill(2),
    view: new Uint8Array(N),
  };
  for (const [i, [score, view, value]] of Object.entries(scored)) {
    s.score[Number(i)] = score;
    s.view[Number(i)] = view;
    s.value[Number(i)] = value;
  }
  return s;
}

const TRUTH: GroundTruth = {
  feed: "metrics",
  options: {},
  channels: ["a", "b"],
  samples: N,
  startUs: 0,
  endUs: N * STEP,
  anomalies: [
    window("a", "spike", 40, 60), // in the probation: neither found nor missed
    window("a", "spike", 300, 310),
    window("b", "drift", 500, 600),
    window("a", "level_shift", 700, 720),
    window("b", "spike", 800, 805),
    window("b", "spike", 900, 905),
  ],
  changePoints: [],
  regimes: [],
};

const SERIES = new Map([
  [
    "a",
    channel({
      50: [0.9, VIEW.range, 40], // in the probation: not counted
      200: [0.8, VIEW.range, 13], // false, 3 sds from 10: inside, at the edge
      305: [0.7, VIEW.jump, 30], // finds the spike
      308: [0.9, VIEW.level, 30], // a repeat
    }),
  ],
  [
    "b",
    channel({
      400: [0.6, VIEW.increment, 16.5], // false, outside 3 sds
      450: [0.6, VIEW.increment, 13], // false, inside
      510: [0.5, VIEW.shift, 12], // finds the drift
      801: [0.2, VIEW.slope, 11],
      803: [0.4, VIEW.level, 12], // the missed spike's largest score
      902: [0.7, VIEW.shift, 12], // at the threshold, while an incident is open
    }),
  ],
]);

const event = (key: string, i: number) => ({ kind: "anomaly", key, ts: i * STEP, body: {} });
const FINDINGS = [
  event("a", 50),
  event("a", 200),
  event("b", 450),
  event("a", 308),
  event("a", 305),
  event("b", 400),
  event("b", 510),
];

test("explainAnomalies() lays each false event, found label and missed label to its view", () => {
  const e = explainAnomalies([TRUTH, FINDINGS], SERIES, OPTIONS);
  assert.equal(e.falseEvents, {
    "beyond the range": { events: 1, within3Sd: 1 },
    increment: { events: 2, within3Sd: 1 },
  });
  // The spike's first opening (305, by the jump), not the repeat at 308 found first in the list.
  assert.equal(e.found, { spike: { jump: 1 }, drift: { shift: 1 } });
  assert.equal(e.missed, {
    level_shift: [{ channel: "a", score: 0, view: "never scored", open: false }],
    spike: [
      { channel: "b", score: 0.4, view: "level", open: false },
      { channel: "b", score: 0.7, view: "shift", open: true },
    ],
  });
  // The same events and labels as the bench's score.
  const score = scoreAnomalies(TRUTH, FINDINGS, OPTIONS);
  const falses = Object.values(e.falseEvents).reduce((a, c) => a + c.events, 0);
  assert.is(falses, score.falsePositives);
  assert.is(Object.values(e.missed).flat().length, score.labels - score.found);
});

test("an event at a time no recorded sample has is an error naming the channel and time", () => {
  const odd = [{ kind: "anomaly", key: "b", ts: 400 * STEP + 7, body: {} }];
  assert.throws(() => explainAnomalies([TRUTH, odd], SERIES, OPTIONS), /"b" at 24000000007/);
});

test("addExplanation() sums two seeds' counts and keeps each miss with its seed", () => {
  const one = explainAnomalies([TRUTH, FINDINGS], SERIES, OPTIONS);
  const sum = addExplanation(addExplanation(emptyExplanation(), one, 1), one, 2);
  assert.equal(sum.falseEvents, {
    "beyond the range": { events: 2, within3Sd: 2 },
    increment: { events: 4, within3Sd: 2 },
  });
  assert.equal(sum.found, { spike: { jump: 2 }, drift: { shift: 2 } });
  assert.equal(sum.missed.level_shift!.map((m) => m.seed), [1, 2]);
  assert.is(sum.missed.spike!.length, 4);
  assert.equal(
    describeExplanation("metrics anomaly", sum),
    [
      "metrics anomaly, explained: 6 false events (4 inside the forecast's 3 sds) by the view " +
      "that raised the opening sample's score:",
      "  increment             4 (2 inside 3 sds)",
      "  beyond the range      2 (2 inside 3 sds)",
      "metrics anomaly, labels found by kind, by the view of the first opening inside:",
      "  drift 2: shift 2",
      "  spike 2: jump 2",
      "metrics anomaly, labels missed by kind: the largest score in the window, its view:",
      "  level_shift 2: never scored 2 (a 2, seeds 1, 2)",
      "  spike 4: 0.700 shift, an incident open (b, seed 1); 0.700 shift, an incident open " +
      "(b, seed 2); 0.400 level (b, seed 1); 0.400 level (b, seed 2)",
    ],
  );
  const rows = explanationRows("metrics", one);
  const at = (metric: string) => rows.find((r) => r.metric === `anomaly_explain.metrics.${metric}`);
  assert.is(at("false_events.increment")?.troupe, 2);
  assert.is(at("false_events_within_3sd.beyond_the_range")?.troupe, 1);
  assert.is(at("found.spike.jump")?.troupe, 1);
  assert.is(at("missed.level_shift.never_scored.a")?.troupe, 0);
  assert.is(at("missed.spike.level.b")?.troupe, 0.4);
  assert.is(rows.length, 2 * 2 + 2 + 3);
});

test.run();
