/**
 * What a pinned chart draws of its past (collab/web/browser/chart/_chart_past.ts): an incident not
 * resolved is still going on, so its band reaches the chart's newest sample (on the code before,
 * it ended at its last finding); the history answer's line goes on with the ring's samples after
 * it, once each, so that a window following an open incident shows them.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type IncidentBand,
  ongoingBands,
  pastWithTail,
} from "../../../collab/web/browser/chart/_chart_past.ts";

const test = suite("chart past");

const band = (id: string, t1: number, open: boolean): IncidentBand => ({
  id,
  t0: 100,
  t1,
  severity: 4,
  color: "255,93,93",
  open,
});

test("ongoingBands() runs an open band on to the newest sample, a resolved one not", () => {
  const bands = [band("firing", 130, true), band("resolved", 130, false), band("late", 200, true)];
  assert.equal(ongoingBands(bands, 160).map((b) => [b.id, b.t1]), [
    ["firing", 160],
    ["resolved", 130],
    // A finding after the newest sample (the clock ahead of the feed): its own end.
    ["late", 200],
  ]);
  assert.equal(ongoingBands(bands, undefined).map((b) => b.t1), [130, 130, 200]);
});

test("pastWithTail() continues the answer with the ring's samples after its last, to the end", () => {
  const past = { t: Float64Array.of(1, 2, 3), v: Float64Array.of(10, 20, 30) };
  const ring = { t: Float64Array.of(2, 3, 4, 5), v: Float64Array.of(21, 31, 41, 51) };
  const got = pastWithTail(past, ring, 5);
  assert.equal([...got.t], [1, 2, 3, 4, 5]);
  assert.equal([...got.v], [10, 20, 30, 41, 51]);
  // A window ending at 4 takes no sample after it.
  assert.equal([...pastWithTail(past, ring, 4).t], [1, 2, 3, 4]);
  // Nothing newer (or nothing up to the end): the answer itself, not a copy.
  assert.is(pastWithTail(past, { t: Float64Array.of(1, 3), v: Float64Array.of(0, 0) }, 9), past);
  assert.is(pastWithTail(past, ring, 3.5), past);
  // An empty answer: the ring's samples.
  const empty = { t: new Float64Array(0), v: new Float64Array(0) };
  assert.equal([...pastWithTail(empty, ring, 9).t], [2, 3, 4, 5]);
});

test.run();
