/**
 * The collapse kernel's step keeps nothing of one channel for the next: a host of many channels
 * steps each channel's one-sample frame in turn, handing each step the result of the one before
 * (of another channel) to reuse, and the kernel reads each frame's settings and running scalars
 * into records every step shares. Channels of different settings (the defaults, the metrics
 * settings with their season, weekend and autocorrelation, a small `runs_max` with a noise
 * half-life), stepped so, give each the results, changes and saved state they give stepped alone
 * in frames of their own, bit for bit.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  collapseKernel,
  type CollapseResult,
  type CollapseState,
  VALUE_ABS_MAX,
} from "../../../actors/collapse/kernel.ts";
import {
  type CollapseConfig,
  defaultCollapseConfig,
  metricsCollapseConfig,
} from "../../../actors/collapse/config.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("collapse interleaved channels");
const T0 = Date.UTC(2024, 2, 1) * 1000;
const STEP_US = 60_000_000;
const SAMPLES = 900;

const CONFIGS: CollapseConfig[] = [
  { ...defaultCollapseConfig },
  { ...defaultCollapseConfig, ...metricsCollapseConfig },
  { ...defaultCollapseConfig, runs_max: 4, noise_half_life_samples: 50, confirm_samples: 3 },
  { ...defaultCollapseConfig, ...metricsCollapseConfig, season_weekend: 0, ar_max: 0.5 },
];

/** A channel's samples: level shifts, a trend, outliers, missing values and a gap in time. */
function series(seed: number): { t: Float64Array; v: Float64Array } {
  const rng = new Prng(seed);
  const t = new Float64Array(SAMPLES), v = new Float64Array(SAMPLES);
  let level = 50 + 40 * rng.next();
  for (let i = 0; i < SAMPLES; i++) {
    if (i % 211 === 97) level += (rng.next() - 0.5) * 40;
    t[i] = T0 + (i < 600 ? i : i + 30) * STEP_US;
    const daily = 5 * Math.sin((2 * Math.PI * (t[i]! / 1e6)) / 86_400);
    v[i] = level + daily + 0.01 * i + rng.normal();
    if (rng.chance(0.01)) v[i] = v[i]! + 25;
    if (rng.chance(0.01)) v[i] = 2 * VALUE_ABS_MAX;
  }
  return { t, v };
}

/** What a channel's steps gave: per-sample columns, its changes, its saved state. */
interface Seen {
  changeProb: number[];
  runLength: number[];
  changes: string[];
  summaries: string[];
  saved: number[];
}

function seen(): Seen {
  return { changeProb: [], runLength: [], changes: [], summaries: [], saved: [] };
}

/** Records a result (copying its columns: a later step may reuse them). */
function note(into: Seen, r: CollapseResult): void {
  into.changeProb.push(...r.changeProb);
  into.runLength.push(...r.runLength);
  for (const c of r.changes) into.changes.push(JSON.stringify(c));
  into.summaries.push(
    JSON.stringify([r.changeProbMax, r.changeProbLast, r.samplesSinceChange, r.phase, r.runs]),
  );
}

/** Each channel alone, in frames of `frame`, no result reused. */
function alone(frame: number): Seen[] {
  return CONFIGS.map((config, c) => {
    const { t, v } = series(c + 1);
    const state = collapseKernel.init(config, `c${c}`);
    const out = seen();
    for (let i = 0; i < SAMPLES; i += frame) {
      const end = Math.min(SAMPLES, i + frame);
      const frameOf = { channel: `c${c}`, seq0: i, t: t.slice(i, end), v: v.slice(i, end) };
      const r = collapseKernel.step(state, frameOf);
      note(out, r);
      // The summaries are per frame: compared only between runs of the same framing.
    }
    out.saved = [...collapseKernel.save(state)];
    return out;
  });
}

/** Every channel's one-sample frame in turn, each step reusing the result before it. */
function interleaved(): { seen: Seen[]; reused: number } {
  const data = CONFIGS.map((_, c) => series(c + 1));
  const states: CollapseState[] = CONFIGS.map((config, c) => collapseKernel.init(config, `c${c}`));
  const out = CONFIGS.map(() => seen());
  let last: CollapseResult | undefined;
  let reused = 0;
  for (let i = 0; i < SAMPLES; i++) {
    for (let c = 0; c < CONFIGS.length; c++) {
      const { t, v } = data[c]!;
      const frame = { channel: `c${c}`, seq0: i, t: t.slice(i, i + 1), v: v.slice(i, i + 1) };
      const r: CollapseResult = collapseKernel.step(states[c]!, frame, last);
      if (last !== undefined && r.changeProb === last.changeProb) reused++;
      note(out[c]!, r);
      last = r;
    }
  }
  for (let c = 0; c < CONFIGS.length; c++) out[c]!.saved = [...collapseKernel.save(states[c]!)];
  return { seen: out, reused };
}

test("channels stepped in turn, results reused, give what each gives alone", () => {
  const one = alone(1);
  const turn = interleaved();
  assert.ok(turn.reused > 0, "the steps reused the results handed to them");
  for (let c = 0; c < CONFIGS.length; c++) {
    assert.equal(turn.seen[c]!.changeProb, one[c]!.changeProb, `channel ${c}: changeProb`);
    assert.equal(turn.seen[c]!.runLength, one[c]!.runLength, `channel ${c}: runLength`);
    assert.equal(turn.seen[c]!.changes, one[c]!.changes, `channel ${c}: changes`);
    assert.equal(turn.seen[c]!.summaries, one[c]!.summaries, `channel ${c}: summaries`);
    assert.equal(turn.seen[c]!.saved, one[c]!.saved, `channel ${c}: saved state`);
  }
  // The series hold what the test is about: changes confirmed, missing samples.
  assert.ok(one.some((s) => s.changes.length > 0), "some channel confirmed a change");
  assert.ok(one[0]!.changeProb.some((p) => p !== p), "missing samples are in the series");
});

test("frames of many samples, reused or not, give the same per-sample outputs", () => {
  const one = alone(1);
  const many = alone(64);
  for (let c = 0; c < CONFIGS.length; c++) {
    assert.equal(many[c]!.changeProb, one[c]!.changeProb, `channel ${c}: changeProb`);
    assert.equal(many[c]!.changes, one[c]!.changes, `channel ${c}: changes`);
    assert.equal(many[c]!.saved, one[c]!.saved, `channel ${c}: saved state`);
  }
});

test.run();
