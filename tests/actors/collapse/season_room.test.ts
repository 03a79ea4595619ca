/**
 * A collapse state's season blocks have room for what its season uses: all the coefficients with
 * a season, the level's alone without one (the default). A state without a season steps, saves
 * and loads as one with whole blocks does, byte for byte; a season configured later grows its
 * blocks and runs as a state made with that season from the start.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { collapseKernel, type CollapseState } from "../../../actors/collapse/kernel.ts";
import { collapseActor } from "../../../actors/collapse/mod.ts";
import {
  type CollapseConfig,
  defaultCollapseConfig,
  metricsCollapseConfig,
} from "../../../actors/collapse/config.ts";
import { dataLength } from "../../../actors/collapse/_state.ts";
import { SEASON_BLOCK, seasonBlockLength } from "../../../actors/collapse/_season.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("collapse season room");
const T0 = 1_699_833_600_000_000; // Monday 13 November 2023, 00:00 UTC, in µs
const STEP = 60_000_000;
const PLAIN: CollapseConfig = defaultCollapseConfig;
const METRICS: CollapseConfig = { ...defaultCollapseConfig, ...metricsCollapseConfig };
const { runs_max } = defaultCollapseConfig;

/** A series with a step at 300 and a spike at 150, `n` samples a minute apart. */
function frames(n: number, per: number) {
  const rng = new Prng("season-room");
  const v = Array.from({ length: n }, (_, i) => 50 + rng.normal() + (i >= 300 ? 9 : 0));
  v[150] = 90;
  const out = [];
  for (let from = 0; from < n; from += per) {
    const k = Math.min(per, n - from);
    out.push({
      channel: "c",
      seq0: from,
      t: Float64Array.from({ length: k }, (_, j) => T0 + (from + j) * STEP),
      v: Float64Array.from({ length: k }, (_, j) => v[from + j]!),
    });
  }
  return out;
}

/** Steps `state` over the frames: each step's change probabilities, and the state saved after. */
function feed(state: CollapseState, n = 600): { probs: number[]; saved: Uint8Array } {
  const probs: number[] = [];
  for (const f of frames(n, 40)) probs.push(...collapseKernel.step(state, f).changeProb);
  return { probs, saved: collapseKernel.save(state).slice() };
}

test("a state without a season keeps the level's room alone, and steps and saves as whole blocks", () => {
  const plain = collapseKernel.init(PLAIN, "c");
  assert.is(plain.data.length, dataLength(runs_max, 1));
  assert.is(plain.season.length, seasonBlockLength(1));
  assert.is(
    dataLength(runs_max) - dataLength(runs_max, 1),
    2 * (SEASON_BLOCK - seasonBlockLength(1)),
  );
  // Whole blocks: a state made with a season, then without (its blocks keep their room).
  const whole = collapseKernel.init(METRICS, "c");
  collapseKernel.configure!(whole, PLAIN);
  assert.is(whole.season.length, SEASON_BLOCK);
  const a = feed(plain), b = feed(whole);
  assert.equal(a.probs, b.probs);
  assert.equal(a.saved, b.saved);
  // Loaded, it has the level's room again, and goes on as the state it was saved from.
  const loaded = collapseKernel.load(a.saved);
  assert.is(loaded.data.length, dataLength(runs_max, 1));
  const c = feed(loaded, 200), d = feed(plain, 200);
  assert.equal(c.probs, d.probs);
  assert.equal(c.saved, d.saved);
});

test("a season configured later grows the blocks and runs as one there from the start", () => {
  const later = collapseKernel.init(PLAIN, "c");
  collapseKernel.configure!(later, METRICS);
  assert.is(later.data.length, dataLength(runs_max));
  assert.is(later.season.length, SEASON_BLOCK);
  const first = collapseKernel.init(METRICS, "c");
  const a = feed(later), b = feed(first);
  assert.equal(a.probs, b.probs);
  assert.equal(a.saved, b.saved);
  assert.is(collapseKernel.load(a.saved).season.length, SEASON_BLOCK);
  // A change of runs_max keeps each block's room.
  const plain = collapseKernel.init(PLAIN, "c");
  collapseKernel.configure!(plain, { ...PLAIN, runs_max: runs_max + 4 });
  assert.is(plain.data.length, dataLength(runs_max + 4, 1));
});

test("a host counts a channel without a season the blocks' bytes it does not hold less", () => {
  const held = (config: CollapseConfig) => collapseActor.heldBytes!(config).perChannel;
  const plain = collapseKernel.init(PLAIN, "c"), seasonal = collapseKernel.init(METRICS, "c");
  const less = seasonal.data.byteLength - plain.data.byteLength;
  assert.is(less, 8 * 2 * (SEASON_BLOCK - seasonBlockLength(1)));
  assert.is(held(METRICS) - held(PLAIN), less);
});

test.run();
