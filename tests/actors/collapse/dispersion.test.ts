/**
 * The quasi-Poisson floor of few counts (_count_floor.ts): a count channel's dispersion phi is
 * learnt from its squared residuals over the predicted rate, never taken under 1, and scales the
 * Poisson variance floor; a format-8 state from before it (zeros in its slots) reads as none learnt.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { collapseKernel } from "../../../actors/collapse/kernel.ts";
import { defaultCollapseConfig } from "../../../actors/collapse/config.ts";
import {
  COUNT_FLOOR_MAX,
  COUNT_RATE_MIN,
  countFloor,
  learnDispersion,
} from "../../../actors/collapse/_count_floor.ts";
import { H_COUNT_N, H_COUNT_PHI, HEADER } from "../../../actors/collapse/_state.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { DAY_US, DT, T0 } from "./_minutes.ts";

const test = suite("collapse: the dispersion of few counts");

/** phi learnt from `n` counts drawn at `rate` by `draw`, the model predicting `rate`. */
function learnt(draw: (rng: Prng) => number, rate: number, n: number, seed: string): number {
  const rng = new Prng(seed);
  const data = new Float64Array(HEADER);
  for (let i = 0; i < n; i++) learnDispersion(data, draw(rng), rate, 1);
  assert.equal(data[H_COUNT_N], n);
  return data[H_COUNT_PHI]!;
}

test("phi is about 1 on Poisson counts and Var / mean on over-dispersed ones", () => {
  for (const seed of ["p-1", "p-2", "p-3"]) {
    const phi = learnt((rng) => rng.poisson(3), 3, 20_000, seed);
    assert.ok(phi > 0.85 && phi < 1.15, `${seed}: Poisson phi ${phi}`);
    // A rate of 3 x uniform(0, 2) per sample: variance 3 + 3 = 6, phi 2.
    const over = learnt((rng) => rng.poisson(3 * rng.uniform(0, 2)), 3, 20_000, seed);
    assert.ok(over > 1.7 && over < 2.3, `${seed}: over-dispersed phi ${over}`);
  }
});

test("the floor is phi x quantum x rate over g, phi at least 1, the rate at least COUNT_RATE_MIN", () => {
  const data = new Float64Array(HEADER);
  data[H_COUNT_PHI] = 2.5;
  assert.equal(countFloor(data, 3, 2, 1, 0.5, 0.1), 10);
  assert.equal(countFloor(data, 0, -1, 1, 1, 0.1), 2.5 * COUNT_RATE_MIN);
  assert.equal(countFloor(data, 30, COUNT_FLOOR_MAX + 1, 1, 1, 0.1), 0.1);
  data[H_COUNT_PHI] = 0.4;
  assert.equal(countFloor(data, 3, 2, 1, 1, 0.1), 2);
  // Not a few counts: nothing is learnt.
  data[H_COUNT_N] = 0;
  learnDispersion(data, 2.5, 2, 1);
  learnDispersion(data, 30, COUNT_FLOOR_MAX + 1, 1);
  assert.equal(data[H_COUNT_N], 0);
});

test("the kernel learns a count channel's dispersion with a season, and not without", () => {
  for (const [seed, seasonUs] of [["k-1", DAY_US], ["k-2", DAY_US], ["k-3", 0]] as const) {
    const rng = new Prng(seed);
    const state = collapseKernel.init(
      { ...defaultCollapseConfig, season_us: seasonUs, ar_max: 0.9 },
      "c",
    );
    for (let day = 0; day < 3; day++) {
      const t = Float64Array.from({ length: 1440 }, (_, k) => T0 + (day * 1440 + k) * DT);
      const v = Float64Array.from({ length: 1440 }, (_, k) => {
        const rate = 2 - Math.cos(2 * Math.PI * (k / 60 - 3) / 24);
        return rng.poisson(rate * rng.uniform(0, 2));
      });
      collapseKernel.step(state, { channel: "c", seq0: day * 1440, t, v });
    }
    const phi = state.data[H_COUNT_PHI]!;
    if (seasonUs === 0) assert.equal(phi, 0, `${seed}: the default path learns nothing`);
    // Var / mean = 1 + rate / 3 over rates 1 to 3, and what the season misses on top.
    else assert.ok(phi > 1.4 && phi < 2.4, `${seed}: phi ${phi}`);
  }
});

test.run();
