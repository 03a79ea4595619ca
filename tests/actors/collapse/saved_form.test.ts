/**
 * The collapse state's saved form holds what the state holds: the season blocks' coefficients in
 * use and the history ring's slots reached. A state saved and loaded at any point, under any
 * season, steps and saves as one never saved; a format-9 state (the ring whole) loads and steps as
 * the format-9 kernel did.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type CollapseChange,
  collapseKernel,
  type CollapseResult,
  type CollapseState,
  describeCollapse,
} from "../../../actors/collapse/kernel.ts";
import {
  type CollapseConfig,
  defaultCollapseConfig,
  metricsCollapseConfig,
} from "../../../actors/collapse/config.ts";
import { H_SEASON_M } from "../../../actors/collapse/_state.ts";
import { cosFast } from "../../../actors/math/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { FORMAT9_REST, FORMAT9_STATE_BASE64 } from "./_format9_state.ts";

const test = suite("collapse saved form");
const T0 = 1_699_833_600_000_000; // Monday 13 November 2023, 00:00 UTC, in µs
const STEP = 60_000_000;
const METRICS: CollapseConfig = { ...defaultCollapseConfig, ...metricsCollapseConfig };

/** The fixture's series (see _format9_state.ts). */
function series(n: number): number[] {
  const rng = new Prng("format9");
  return Array.from({ length: n }, (_, i) => {
    const day = cosFast(2 * Math.PI * (i % 1440) / 1440);
    return 100 + 8 * day + rng.normal() + (i >= 2000 ? 6 : 0) + (i % 97 === 5 ? NaN : 0);
  });
}

function frame(values: number[], from: number, n: number) {
  const v = Float64Array.from({ length: n }, (_, k) => values[from + k]!);
  const t = Float64Array.from({ length: n }, (_, k) => T0 + (from + k) * STEP);
  return { channel: "c", seq0: from, t, v };
}

/** Steps samples `from` to `to` in frames of 50: the changes' starts and a changeProb hash. */
function run(state: CollapseState, values: number[], from: number, to: number) {
  const changes: number[] = [];
  const f64 = new Float64Array(1);
  const words = new Uint32Array(f64.buffer);
  let probHash = 0;
  for (let i = from; i < to; i += 50) {
    const r = collapseKernel.step(state, frame(values, i, Math.min(50, to - i)));
    changes.push(...r.changes.map((c: CollapseChange) => c.changeIndex));
    for (const p of r.changeProb) {
      f64[0] = p;
      probHash = (Math.imul(probHash, 31) + (words[0]! ^ words[1]!)) | 0;
    }
  }
  return { changes, probHash };
}

const roundTrip = (s: CollapseState) => collapseKernel.load(collapseKernel.save(s));

test("load() reads a format-9 state and steps as the format-9 kernel did; it saves as format 10", () => {
  const bytes = Uint8Array.from(atob(FORMAT9_STATE_BASE64), (c) => c.charCodeAt(0));
  assert.is(bytes.length, 12_584);
  const state = collapseKernel.load(bytes);
  assert.is(describeCollapse(state).format, 10);
  const saved = collapseKernel.save(state);
  assert.is(saved.length, 6_568); // its 300 slots of the ring, the seasons' 8 and 4 features
  assert.equal(collapseKernel.save(collapseKernel.load(saved)), saved);
  const values = series(3000);
  assert.equal(run(state, values, 300, 3000), FORMAT9_REST);
  // The same from the format-10 bytes, and from a state never saved.
  assert.equal(run(collapseKernel.load(saved), values, 300, 3000), FORMAT9_REST);
  const fresh = collapseKernel.init(METRICS, "c");
  run(fresh, values, 0, 300);
  assert.equal(collapseKernel.save(fresh), saved);
});

test("a metrics channel saves 1,768 bytes, 16 more a sample, up to 9,960 once its ring is full", () => {
  const values = series(600);
  const state = collapseKernel.init(METRICS, "c");
  const sizes = [];
  const ends = [0, 13, 300, 511, 512, 600];
  for (const [k, to] of ends.entries()) {
    const from = k === 0 ? 0 : ends[k - 1]!;
    if (to > from) collapseKernel.step(state, frame(values, from, to - from));
    sizes.push(collapseKernel.save(state).length);
  }
  assert.equal(sizes, [1_768, 1_976, 6_568, 9_944, 9_960, 9_960]);
});

/** Every result of a step, as plain numbers (NaN-safe). */
function plain(r: CollapseResult): unknown {
  return JSON.stringify([Array.from(r.changeProb, String), Array.from(r.runLength), r.changes]);
}

const SEASONS: Record<string, CollapseConfig> = {
  "no season": defaultCollapseConfig,
  "a daily season with the weekend": METRICS,
  "four harmonics with the weekend (every feature)": { ...METRICS, season_harmonics: 4 },
  "two harmonics without the weekend": { ...METRICS, season_harmonics: 2, season_weekend: 0 },
};

for (const [name, config] of Object.entries(SEASONS)) {
  test(`${name}: a state saved and loaded after every frame steps and saves as one never saved`, () => {
    const values = series(2600);
    const kept = collapseKernel.init(config, "c");
    let reloaded = roundTrip(collapseKernel.init(config, "c"));
    const sizes = [1, 7, 13, 50, 200, 3];
    for (let i = 0, k = 0; i < values.length; k++) {
      const n = Math.min(sizes[k % sizes.length]!, values.length - i);
      const a = plain(collapseKernel.step(kept, frame(values, i, n)));
      const b = plain(collapseKernel.step(reloaded, frame(values, i, n)));
      i += n;
      assert.is(b, a, `the frame ending at sample ${i}`);
      const bytes = collapseKernel.save(kept);
      assert.equal(collapseKernel.save(reloaded), bytes, `the state at sample ${i}`);
      reloaded = collapseKernel.load(bytes);
    }
  });
}

test("a loaded state takes a new configuration as one never saved", () => {
  const values = series(2600);
  const changes = [
    { runs_max: 12 }, // the hypotheses move, the seasons are copied whole
    { hazard: 0.001 }, // the season keeps its features
    { season_harmonics: 3 }, // the seasons are reset
    { season_weekend: 0 },
  ];
  for (const over of changes) {
    const kept = collapseKernel.init(METRICS, "c");
    run(kept, values, 0, 700);
    const loaded = roundTrip(kept);
    collapseKernel.configure!(kept, { ...METRICS, ...over });
    collapseKernel.configure!(loaded, { ...METRICS, ...over });
    const what = JSON.stringify(over);
    assert.equal(run(loaded, values, 700, 2600), run(kept, values, 700, 2600), what);
    assert.equal(collapseKernel.save(loaded), collapseKernel.save(kept), what);
  }
});

test("load() names a format-10 state whose length or season does not fit", () => {
  const state = collapseKernel.init(METRICS, "c");
  run(state, series(40), 0, 40);
  const bytes = collapseKernel.save(state);
  const longer = new Uint8Array(bytes.length + 8);
  longer.set(bytes);
  assert.throws(
    () => collapseKernel.load(longer),
    /^Cannot load a collapse state: 302 values do not fit runs_max = 8$/,
  );
  const odd = bytes.slice();
  new DataView(odd.buffer).setFloat64(H_SEASON_M * 8, 99, true);
  assert.throws(() => collapseKernel.load(odd), /season's 99 features are not 0 to 14/);
  // Ring slots past HISTORY_SAMPLES do not fit either.
  const tooLong = new Uint8Array(bytes.length + 2 * 8 * 600);
  tooLong.set(bytes);
  assert.throws(() => collapseKernel.load(tooLong), /values do not fit runs_max = 8/);
});

test.run();
