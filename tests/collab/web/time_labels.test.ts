/**
 * The dashboard's time axis (collab/web/browser/plot/time_labels.ts): labels over midnight say the
 * day (issue 31: a 24 h axis read `12:00 18:00 00:00 06:00`, with no date), and the ticks are
 * whole multiples of one step chosen as the live view chooses it, so that a line and its candle
 * strip over one range tick at the same moments.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type uPlot from "uplot";
import {
  TIME_AXIS,
  TIME_LABEL_PX,
  TIME_STEPS,
  timeAxisLabels,
  timeLabels,
  timeSplits,
  timeStep,
} from "../../../collab/web/browser/plot/time_labels.ts";

const test = suite("dashboard time labels");

const at = (iso: string) => Date.parse(iso) / 1000;

test("a 24 h axis says the date at its first tick and at each day's first", () => {
  const from = at("2026-11-23T10:36:00Z"), to = from + 86_400;
  const step = timeStep(430 / 86_400);
  assert.is(step, 21_600);
  const splits = timeSplits(undefined, 0, from, to, step);
  assert.equal(timeLabels(undefined, splits), ["11-23 12:00", "18:00", "11-24 00:00", "06:00"]);
});

test("labels within one day carry no date, and none repeat", () => {
  const from = at("2026-11-24T10:35:14Z");
  const splits = timeSplits(undefined, 0, from, from + 8, timeStep(430 / 8));
  const labels = timeLabels(undefined, splits);
  assert.equal(labels, ["10:35:14", "10:35:16", "10:35:18", "10:35:20", "10:35:22"]);
  const tenths = timeLabels(undefined, [from, from + 0.2, from + 0.4]);
  assert.equal(tenths, ["10:35:14.0", "10:35:14.2", "10:35:14.4"]);
  // Seconds over midnight: the date where the day turns.
  const night = timeLabels(undefined, [at("2026-11-24T23:59:58Z"), at("2026-11-25T00:00:00Z")]);
  assert.equal(night, ["11-24 23:59:58", "11-25 00:00:00"]);
});

test("uPlot's labels end at their tick, as the live view's, and none reaches left of the plot", () => {
  // A live card's line labels its ticks ending at the tick; uPlot's candle strip under it centred
  // them, so the same time read ~25 px apart between line and strip (the s34 screenshot).
  assert.is(TIME_AXIS.align, 2);
  const from = at("2026-11-23T23:59:40Z");
  const splits = timeSplits(undefined, 0, from, from + 40, 10);
  const pxPerS = 430 / 40;
  const u = { valToPos: (v: number) => (v - from) * pxPerS } as unknown as uPlot;
  const labels = timeAxisLabels(u, splits);
  // 23:59:40 sits at the plot's left edge (0 px) and 23:59:50 at 107 px: only the first is left
  // out; the day it carried goes to the next label.
  assert.ok(u.valToPos(splits[1]!, "x") >= TIME_LABEL_PX);
  assert.equal(labels, ["", "11-23 23:59:50", "11-24 00:00:00", "00:00:10", "00:00:20"]);
  assert.equal(timeAxisLabels(undefined, splits), timeLabels(undefined, splits));
});

test("a day's range whose ticks all fall on one date says the date all the same", () => {
  // The s36 screenshot: 24 h from 11-23 22:02 ticked 00:00 06:00 12:00 18:00, all of 11-24; the
  // first, 35 px from the plot's left edge, was left out, and no label said a date.
  const from = at("2026-11-23T22:02:00Z"), to = from + 86_400;
  const splits = timeSplits(undefined, 0, from, to, 21_600);
  const pxPerS = 430 / 86_400;
  const u = {
    scales: { x: { min: from, max: to } },
    valToPos: (v: number) => (v - from) * pxPerS,
  } as unknown as uPlot;
  assert.equal(timeLabels(u, splits), ["11-24 00:00", "06:00", "12:00", "18:00"]);
  assert.equal(timeAxisLabels(u, splits), ["", "11-24 06:00", "12:00", "18:00"]);
  // Within one day, no date, whatever the ticks.
  const day = { scales: { x: { min: from + 7_200, max: from + 79_200 } } } as unknown as uPlot;
  assert.equal(timeLabels(day, splits.slice(0, 3)), ["00:00", "06:00", "12:00"]);
});

test("ticks are the step's whole multiples, at the step the live view takes for its width", () => {
  // The live view takes the first step at least 90 CSS pixels wide, as uPlot's axes do with
  // TIME_STEPS as their increments.
  for (const [px, span] of [[430, 8], [430, 300], [430, 3600], [900, 86_400], [300, 7 * 86_400]]) {
    const step = timeStep(px! / span!);
    assert.ok(step * (px! / span!) >= 90, `${px} px over ${span} s: ${step}`);
    const i = TIME_STEPS.indexOf(step);
    assert.ok(i === 0 || TIME_STEPS[i - 1]! * (px! / span!) < 90, `${step} is the first`);
    const splits = timeSplits(undefined, 0, 1000.3, 1000.3 + span!, step);
    for (const s of splits) assert.ok(Math.abs(s / step - Math.round(s / step)) < 1e-6, `${s}`);
    assert.ok(splits[0]! >= 1000.3 && splits[0]! - step < 1000.3, JSON.stringify(splits));
  }
});

test.run();
