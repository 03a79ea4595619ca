/**
 * The absorption ratio's predicted sampling noise (actors/coherence/_ratio_noise.ts), and what it
 * is for (issue 29): a young group, whose sd learnt from the ratio's own history is still a guess,
 * measures its first stressed spell against its calm noise and finds it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { coherenceActor } from "../../../actors/coherence/mod.ts";
import { initCoherence } from "../../../actors/coherence/kernel.ts";
import { effectiveBars, ratioVariance } from "../../../actors/coherence/_ratio_noise.ts";
import { factorFeed, feedBar } from "./_support.ts";

const test = suite("coherence ratio noise");

test("effectiveBars() is (Σw)²/Σw² of the weights, 1 for one bar, (2 - α)/α at length", () => {
  const alpha = 0.1;
  for (const k of [1, 2, 7, 40]) {
    let sum = 0, squares = 0;
    for (let j = 0; j < k; j++) {
      const w = alpha * (1 - alpha) ** j;
      sum += w;
      squares += w * w;
    }
    const want = sum * sum / squares;
    assert.ok(Math.abs(effectiveBars(alpha, k) - want) < 1e-9 * want, `k ${k}`);
  }
  assert.ok(Math.abs(effectiveBars(alpha, 1) - 1) < 1e-12);
  assert.ok(Math.abs(effectiveBars(alpha, 10_000) - 19) < 1e-9);
  assert.is(effectiveBars(alpha, 0), 0);
});

test("ratioVariance() is NaN without a trace or bars, and 0 for a ratio of 1 of rank one", () => {
  const spectrum = { ratio: 0.6, trace: 2, topSquares: 1.44, allSquares: 1.8 };
  assert.ok(Number.isNaN(ratioVariance({ ...spectrum, trace: 0 }, 10)));
  assert.ok(Number.isNaN(ratioVariance(spectrum, 0)));
  assert.is(ratioVariance({ ratio: 1, trace: 3, topSquares: 9, allSquares: 9 }, 10), 0);
  // 2 ((0.4)² 1.44 + (0.6)² 0.36) / (10 · 4)
  assert.ok(Math.abs(ratioVariance(spectrum, 10) - 2 * (0.2304 + 0.1296) / 40) < 1e-15);
});

/** A group with troupe up's coherence settings (bench incidents' market, 1 s ticks). */
function demoGroup() {
  const config = coherenceActor.parseConfig(
    {
      half_life_bars: 10,
      shift_short_half_life_bars: 5,
      shift_long_half_life_bars: 200,
      warmup_bars: 50,
      change_for_bars: 20,
    },
    coherenceActor.defaultConfig,
    "",
  );
  return initCoherence(config, "all");
}

test("the predicted sd is the calm ratio's own sd, within 30% (seeded factor model)", () => {
  // The delta method is first order and takes the estimate for Σ: on this feed (10 channels, a
  // 10-bar half-life, about 29 effective bars) it reads 0.056 against a measured 0.044.
  const s = demoGroup();
  const feed = factorFeed(10, 11);
  const ratios: number[] = [];
  for (let bar = 0; bar < 4000; bar++) {
    feedBar(s, feed.names, feed.next(0.005), bar);
    if (bar >= 500) ratios.push(s.ratio);
  }
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  const sd = Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / ratios.length);
  const predicted = Math.sqrt(s.priorVar);
  assert.ok(Math.abs(predicted / sd - 1) < 0.3, `predicted ${predicted}, measured ${sd}`);
});

test("troupe up's settings: a stressed spell 100 bars after the group's start turns it coherent", () => {
  // Issue 29. Before, the sd learnt the start-up transient (the ratio of a covariance of a few
  // bars, near 1, falling to its calm level) and stood near twice the calm noise when the first
  // spell came; the spell was learnt as the baseline and the group stayed normal throughout.
  const s = demoGroup();
  const feed = factorFeed(10, 7);
  const seen: string[] = [];
  for (let bar = 0; bar < 600; bar++) {
    const vol = bar >= 170 && bar < 330 ? 0.01 : 0.005;
    for (const r of feedBar(s, feed.names, feed.next(vol), bar)) {
      for (const c of r.changes) seen.push(`${c.from}->${c.to}@${bar}`);
    }
  }
  assert.ok(seen.length >= 1, "no change");
  assert.match(seen[0]!, /^normal->coherent@(1[7-9]|2\d)\d$/, seen.join(", "));
});

test.run();
