/**
 * `troupe bench detect --tails`: the anomaly score's tail per channel, counted outside the labelled
 * windows and after the probation, with the rises to each threshold apart from the samples above it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  addTail,
  channelTail,
  describeTails,
  emptyTail,
  TAIL_THRESHOLDS,
} from "../../bench/_score_tails.ts";
import type { AnomalyWindow } from "../../sim/mod.ts";

const test = suite("bench/_score_tails");

const at = (q: number) => TAIL_THRESHOLDS.indexOf(q);
const window = (start: number, end: number): AnomalyWindow => ({
  channel: "c",
  kind: "spike",
  start,
  end,
  onset: start,
  index: start,
});

test("channelTail() counts samples outside the windows after the probation, and their rises", () => {
  // Times 0..19; the probation ends at 2; a window covers 10..12.
  const t = Array.from({ length: 20 }, (_, i) => i);
  const score = t.map(() => 0);
  score[1] = 0.9; // in the probation: not counted
  score[3] = 0.55; // a rise to 0.5
  score[4] = 0.65; // above 0.5 (no rise to it), a rise to 0.6
  score[5] = 0.2; // above 0.2, but after 0.65: no rise
  score[11] = 1; // in the window: labelled, not counted
  score[13] = 1; // just after the window: a rise to every threshold
  const tail = channelTail({ t, score }, { windows: [window(10, 12)], scoredFrom: 2 });
  assert.is(tail.labelled, 3);
  assert.is(tail.outside, 15);
  assert.is(tail.above[at(0.5)], 3);
  assert.is(tail.rises[at(0.5)], 2);
  assert.is(tail.above[at(0.6)], 2);
  assert.is(tail.rises[at(0.6)], 2);
  assert.is(tail.above[at(0.2)], 4);
  assert.is(tail.rises[at(0.2)], 2);
  assert.is(tail.above[at(1)], 1);
  assert.is(tail.rises[at(1)], 1);
});

test("channelTail() takes a rise from the sample before, even inside a window or the probation", () => {
  const t = [0, 1, 2, 3];
  const score = [0.7, 0.7, 0.7, 0.7];
  const tail = channelTail({ t, score }, { windows: [window(1, 1)], scoredFrom: 0.5 });
  assert.is(tail.outside, 2);
  assert.is(tail.above[at(0.5)], 2);
  assert.is(tail.rises[at(0.5)], 0);
});

test("channelTail() counts no sample at or after scoredTo: every kind at the same age", () => {
  // Times 0..9, the probation ends at 1; scores rise to 0.5 at 3 and at 7; counted up to 6.
  const t = Array.from({ length: 10 }, (_, i) => i);
  const score = t.map((i) => (i === 3 || i === 7 ? 0.5 : 0));
  const tail = channelTail({ t, score }, { windows: [], scoredFrom: 1, scoredTo: 6 });
  assert.is(tail.outside, 5);
  assert.is(tail.above[at(0.5)], 1);
  assert.is(tail.rises[at(0.5)], 1);
  const whole = channelTail({ t, score }, { windows: [], scoredFrom: 1 });
  assert.is(whole.outside, 9);
  assert.is(whole.rises[at(0.5)], 2);
});

test("describeTails() says when it counts only each channel's first samples", () => {
  const tail = emptyTail();
  tail.outside = 1000;
  const lines = describeTails({ price: tail }, { fullBits: 10, firstSamples: 40000 });
  assert.ok(lines[0]!.includes("within each channel's first 40000 samples"), lines[0]);
});

test("channelTail() refuses times and scores of different lengths, naming both", () => {
  assert.throws(
    () => channelTail({ t: [0, 1], score: [0] }, { windows: [], scoredFrom: 0 }),
    /2 times but 1 scores/,
  );
});

test("addTail() sums, and describeTails() gives rates per 1,000 and their spread across kinds", () => {
  const a = emptyTail(), b = emptyTail();
  a.outside = 1000;
  a.above[at(0.5)] = 1;
  a.rises[at(0.5)] = 1;
  b.outside = 3000;
  b.labelled = 1000;
  b.above[at(0.5)] = 3;
  b.rises[at(0.5)] = 2;
  const sum = addTail(emptyTail(), b);
  assert.is(sum.outside, 3000);
  assert.is(sum.rises[at(0.5)], 2);
  const low = emptyTail();
  low.outside = 4000;
  low.above[at(0.5)] = 1;
  const lines = describeTails({ price: low, cpu: addTail(a, b) }, { fullBits: 10 });
  assert.not.ok(lines[0]!.includes("first"), lines[0]);
  assert.ok(lines[1]!.startsWith("  price: "), lines[1]);
  assert.ok(lines[1]!.includes(" / 0.250 (0.000) / "), lines[1]);
  assert.ok(lines[2]!.includes(" / 1.000 (0.750) / "), lines[2]);
  assert.ok(lines[2]!.endsWith("20.00% of 5000 samples labelled"), lines[2]);
  // 1.000 over 0.250 at 0.5; the other thresholds, 0 on both kinds here, have no ratio.
  assert.ok(lines[3]!.includes(" / 4.0 / "), lines[3]);
  assert.ok(lines[3]!.includes("inf"), lines[3]);
  assert.ok(lines[4]!.includes(" / 31.250 / "), lines[4]);
});

test.run();
