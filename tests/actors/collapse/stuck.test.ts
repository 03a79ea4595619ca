/**
 * Held readings in the collapse kernel (_stuck.ts): with a season (the metrics settings), a value
 * that repeats exactly on a channel far finer than its noise is taken as missing, not measured: a
 * gauge pinned at its ceiling or a frozen exporter is then no change; counts repeat by chance and
 * are measured as ever; without a season nothing changes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { collapseKernel } from "../../../actors/collapse/kernel.ts";
import {
  type CollapseConfig,
  defaultCollapseConfig,
  metricsCollapseConfig,
} from "../../../actors/collapse/config.ts";
import { loadRunning } from "../../../actors/collapse/_running.ts";
import { isStuck, STUCK_GRID_RATIO } from "../../../actors/collapse/_stuck.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { DAY_US, DT, runMinutes } from "./_minutes.ts";

const test = suite("collapse stuck");
const METRICS: CollapseConfig = { ...defaultCollapseConfig, ...metricsCollapseConfig };

/** `days` of minutes: `mean` swinging by `swing` over the day (trough at 03:00), AR(0.5) noise of
 * sd 0.6. */
function gauge(seed: string, days: number, mean: number, swing: number): number[] {
  const rng = new Prng(seed);
  let e = 0;
  return Array.from({ length: days * 1440 }, (_, i) => {
    const hours = ((i * DT) % DAY_US) / 3_600e6;
    e = 0.5 * e + Math.sqrt(0.75) * rng.normal();
    return mean - swing * Math.cos(2 * Math.PI * (hours - 3) / 24) + 0.6 * e;
  });
}

function run(values: readonly number[], config: CollapseConfig) {
  const state = collapseKernel.init(config, "c");
  return { state, changes: runMinutes(state, values).changes };
}

test("isStuck(): a repeat is held where repeats are improbable, not on counts", () => {
  const fine = run(gauge("a", 1, 50, 4), METRICS).state;
  const r = loadRunning(fine.data);
  const sigma = 0.5;
  assert.ok(r.quantum > 0 && r.quantum < STUCK_GRID_RATIO * sigma, `quantum ${r.quantum}`);
  assert.ok(isStuck(r, r.prevX, sigma));
  assert.not.ok(isStuck(r, r.prevX + r.quantum, sigma));
  // Poisson counts at a rate of 3: the quantum is 1, a repeat is a measurement.
  const rng = new Prng("counts");
  const counts = run(Array.from({ length: 1440 }, () => rng.poisson(3)), METRICS).state;
  const c = loadRunning(counts.data);
  assert.is(c.quantum, 1);
  assert.not.ok(isStuck(c, c.prevX, Math.sqrt(3)));
  // Before the running scale is settled, nothing is held.
  const young = run([5, 5, 5], METRICS).state;
  const y = loadRunning(young.data);
  assert.not.ok(isStuck(y, y.prevX, 1));
});

test("a gauge pinned at its ceiling for hours a day is no change with the metrics settings", () => {
  // Memory at 96 +- 4 over the day, clipped at 100: pinned about 7% of the time, around each
  // daily peak. Measured as samples, the pinned values were a regime without noise, and the
  // values coming off it a change (32 changes after the first day on these four series before).
  let found = 0;
  let pinned = 0;
  for (const seed of ["a", "b", "c", "d"]) {
    const values = gauge(seed, 6, 96, 4).map((x) => Math.min(100, x));
    pinned += values.filter((x) => x === 100).length;
    found += run(values, METRICS).changes.filter((c) => c.changeIndex >= 1440).length;
  }
  assert.ok(pinned > 0.05 * 4 * 6 * 1440, `pinned ${pinned}`);
  assert.ok(found <= 6, `${found} changes`);
});

test("an exporter frozen for two hours a day is no change with the metrics settings", () => {
  // Every day from the second on, the value freezes at 10:00 for 120 samples. Before: a change
  // where it froze and another where it moved again, 10 a series.
  const late: number[] = [];
  for (const seed of ["a", "b", "c", "d"]) {
    const values = gauge(seed, 6, 67, 4);
    for (let d = 1; d < 6; d++) {
      for (let k = 0; k < 120; k++) values[d * 1440 + 600 + k] = values[d * 1440 + 599]!;
    }
    late.push(...run(values, METRICS).changes.map((c) => c.changeIndex).filter((j) => j >= 1440));
  }
  assert.ok(late.length <= 3, JSON.stringify(late));
});

test("without a season a held reading is measured as before: a frozen value reads as a change", () => {
  let near = 0;
  for (const seed of ["a", "b", "c", "d"]) {
    const values = gauge(seed, 2, 50, 0);
    for (let k = 0; k < 120; k++) values[1440 + k] = values[1439]!;
    const { changes } = run(values, defaultCollapseConfig);
    near += changes.filter((c) => c.changeIndex >= 1400 && c.changeIndex <= 1600).length;
  }
  assert.ok(near >= 4, `${near} changes at the freeze`);
});

test.run();
