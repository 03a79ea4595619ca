/**
 * The collapse kernel's season (a daily cycle fitted online from the timestamps) and its
 * prewhitening of serially correlated noise (`ar_max`): each is tested on series where the
 * detector without it reads the cycle or the correlation as changes, and must then find the one
 * real change; plus exact save/load and configure() with both on.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type CollapseChange, collapseKernel } from "../../../actors/collapse/kernel.ts";
import {
  type CollapseConfig,
  defaultCollapseConfig,
  metricsCollapseConfig,
} from "../../../actors/collapse/config.ts";
import {
  SEASON_COEFFS,
  SEASON_PRIOR_VARIANCE,
  seasonFeatures,
  seasonLearn,
  seasonReset,
} from "../../../actors/collapse/_season.ts";
import { weekendness } from "../../../actors/collapse/_weekend.ts";
import { H_SEASON_M, HEADER } from "../../../actors/collapse/_state.ts";
import {
  COUNT_FLOOR_MAX,
  COUNT_RATE_MIN,
  countFloor,
} from "../../../actors/collapse/_count_floor.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { cosFast } from "../../../actors/math/mod.ts";
import { FORMAT5_DAY4, FORMAT5_STATE_BASE64 } from "./_format5_state.ts";
import { FORMAT6_DAYS_8_TO_11, FORMAT6_STATE_BASE64 } from "./_format6_state.ts";
import { FORMAT7_DAYS_8_TO_15, FORMAT7_STATE_BASE64 } from "./_format7_state.ts";
import { DAY_US, DT, runMinutes, T0 } from "./_minutes.ts";

const test = suite("collapse season and correlated noise");

function config(over: Partial<CollapseConfig> = {}): CollapseConfig {
  return { ...defaultCollapseConfig, ...over };
}

const run = runMinutes;

/** A daily cycle of `amplitude` (peak at 15:00), unit Gaussian noise, `shift` added from `at`. */
function daily(seed: string, days: number, amplitude: number, shift: number, at: number): number[] {
  const rng = new Prng(seed);
  return Array.from({ length: days * 1440 }, (_, i) => {
    const hours = ((i * DT) % DAY_US) / 3_600e6;
    const cycle = -amplitude * Math.cos(2 * Math.PI * (hours - 3) / 24);
    return 100 + cycle + rng.normal() + (i >= at ? shift : 0);
  });
}

/** AR(1) noise of lag-1 correlation `phi` and unit variance, `shift` added from `at`. */
function ar1(seed: string, n: number, phi: number, shift: number, at: number): number[] {
  const rng = new Prng(seed);
  let e = 0;
  return Array.from({ length: n }, (_, i) => {
    e = phi * e + Math.sqrt(1 - phi * phi) * rng.normal();
    return 50 + e + (i >= at ? shift : 0);
  });
}

test("seasonFeatures() gives the harmonics of the time's phase in the period", () => {
  const f = new Float64Array(SEASON_COEFFS);
  for (const t of [0, 3_600e6 * 7.25, DAY_US * 3 + 1234, -DAY_US / 3]) {
    seasonFeatures(t, DAY_US, 4, f);
    const angle = 2 * Math.PI * ((((t % DAY_US) + DAY_US) % DAY_US) / DAY_US);
    assert.is(f[0], 1);
    for (let k = 1; k <= 4; k++) {
      assert.ok(Math.abs(f[2 * k - 1]! - Math.cos(k * angle)) < 1e-12, `cos ${k} at ${t}`);
      assert.ok(Math.abs(f[2 * k]! - Math.sin(k * angle)) < 1e-12, `sin ${k} at ${t}`);
    }
  }
});

test("weekendness() is 0 on weekdays, 1 on Saturday and Sunday UTC, and ramps around both midnights", () => {
  const HOUR_US = 3_600e6;
  // T0 is a Monday 00:00 UTC.
  const at = (day: number, hour: number) => weekendness(T0 + day * DAY_US + hour * HOUR_US);
  assert.is(at(2, 12), 0); // Wednesday noon
  assert.is(at(4, 20), 0); // Friday 20:00, before the ramp
  assert.is(at(5, 12), 1); // Saturday noon
  assert.is(at(6, 23 - 3), 1); // Sunday 20:00
  assert.is(at(7, 4), 0); // Monday 04:00
  assert.ok(Math.abs(at(5, 0) - 0.5) < 1e-12, `Saturday 00:00: ${at(5, 0)}`);
  assert.ok(Math.abs(at(7, 0) - 0.5) < 1e-12, `Monday 00:00: ${at(7, 0)}`);
  assert.ok(at(4, 23) > 0 && at(4, 23) < 0.5 && at(5, 1) > 0.5 && at(5, 1) < 1);
  // The same a year earlier and before the epoch.
  assert.is(weekendness(T0 + 5.5 * DAY_US - 52 * 7 * DAY_US), 1);
  assert.is(weekendness(-4 * DAY_US + 12 * HOUR_US), 1); // Sunday 1969-12-28, noon
});

test("seasonLearn() recovers a cycle's level and coefficients from noisy samples", () => {
  const block = new Float64Array(SEASON_COEFFS + SEASON_COEFFS * SEASON_COEFFS);
  seasonReset(block, 0);
  const f = new Float64Array(SEASON_COEFFS);
  const rng = new Prng("learn");
  const forget = Math.pow(2, -DT / (4 * DAY_US));
  for (let i = 0; i < 4 * 1440; i++) {
    seasonFeatures(i * DT, DAY_US, 1, f);
    const x = 20 + 6 * f[1]! - 3 * f[2]! + rng.normal();
    seasonLearn(block, f, 3, x, 1, forget);
  }
  assert.ok(Math.abs(block[0]! - 20) < 0.2, `level ${block[0]}`);
  assert.ok(Math.abs(block[1]! - 6) < 0.2, `cos ${block[1]}`);
  assert.ok(Math.abs(block[2]! + 3) < 0.2, `sin ${block[2]}`);
});

/** Changes after the first two days: a season is learned over its first periods (a warm-up). */
function afterTwoDays(changes: CollapseChange[]): CollapseChange[] {
  return changes.filter((c) => c.changeIndex >= 2 * 1440);
}

test("a daily cycle is no change with season_us a day, and a real shift in it is one", () => {
  const shiftAt = Math.round(3.3 * 1440);
  const values = daily("cycle", 6, 8, 5, shiftAt);
  const flat = afterTwoDays(run(collapseKernel.init(config(), "c"), values).changes);
  assert.ok(flat.length >= 5, `without a season: ${flat.length} changes`);
  const seasonal = afterTwoDays(
    run(collapseKernel.init(config({ season_us: DAY_US }), "c"), values).changes,
  );
  assert.is(seasonal.length, 1, JSON.stringify(seasonal.map((c) => c.changeIndex)));
  assert.ok(Math.abs(seasonal[0]!.changeIndex - shiftAt) <= 10, `at ${seasonal[0]!.changeIndex}`);
  assert.ok(seasonal[0]!.delaySamples <= 30, `delay ${seasonal[0]!.delaySamples}`);
});

test("a shift in the season's first period is not learned as daily shape", () => {
  // 20 sigmas at 09:36 of the first day, over a swing of 4: counted as no change (a swing cannot be
  // told from a change yet), but the season's level moves to it, so the harmonics keep the swing's
  // shape. Learned as shape, it read as a change every hour or two for days (36 to 55 on these
  // series before).
  const late = Math.round(4.5 * 1440);
  for (const seed of ["a", "b", "c"]) {
    const values = daily(seed, 6, 4, 20, Math.round(0.4 * 1440)).map((x, i) =>
      x - (i >= late ? 10 : 0)
    );
    const found = run(collapseKernel.init(config({ season_us: DAY_US }), "c"), values).changes;
    const at = found.map((c) => c.changeIndex);
    assert.is(found.length, 1, `${seed}: ${JSON.stringify(at)}`);
    assert.ok(Math.abs(at[0]! - late) <= 10, `${seed}: at ${at[0]}`);
  }
});

test("a spike in the season's first period is neither its level nor daily shape", () => {
  // Three samples 70 sigmas up at 13:44 of the first day, over a swing of 3, AR(0.5) noise and the
  // metrics settings: the regimes confirm the burst at its second or third sample. Relevelled
  // then, the season's level became the spike's, came back over hours (its residuals are clipped
  // at 3 sigmas) and left the harmonics a swing of tens of sigmas: 50 false changes on these
  // series before, in the four days after the warm-up.
  const spikeAt = 824;
  const found: number[] = [];
  for (const seed of ["a", "b", "c"]) {
    const rng = new Prng(seed);
    let e = 0;
    const values = Array.from({ length: 5 * 1440 }, (_, i) => {
      const hours = ((i * DT) % DAY_US) / 3_600e6;
      e = 0.5 * e + Math.sqrt(0.75) * rng.normal();
      const spike = i >= spikeAt && i < spikeAt + 3 ? 70 : 0;
      return 100 - 3 * Math.cos(2 * Math.PI * (hours - 3) / 24) + e + spike;
    });
    const state = collapseKernel.init(config({ ...metricsCollapseConfig }), "c");
    found.push(...run(state, values).changes.map((c) => c.changeIndex));
  }
  assert.ok(found.length <= 1, JSON.stringify(found));
});

test("the noise's correlation learned in the season's warm-up is kept after it", () => {
  // AR(1) noise on a daily cycle, the metrics settings: the warm-up's regimes learn phi; forgotten
  // when the warm-up ended, the next hours read the correlated noise as changes (15 on the first 12
  // of these 24 series before, most within 3 hours of the warm-up's end; kept, 1 to 3 on the 24 as
  // the season's other parts moved, 5 to 7 on 52).
  const found: number[] = [];
  for (const phi of [0.5, 0.7]) {
    for (const seed of ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]) {
      const rng = new Prng(seed);
      let e = 0;
      const values = Array.from({ length: 3 * 1440 }, (_, i) => {
        const hours = ((i * DT) % DAY_US) / 3_600e6;
        e = phi * e + Math.sqrt(1 - phi * phi) * rng.normal();
        return 100 - 10 * Math.cos(2 * Math.PI * (hours - 3) / 24) + 2 * e;
      });
      const state = collapseKernel.init(config({ ...metricsCollapseConfig }), "c");
      found.push(...run(state, values).changes.map((c) => c.changeIndex));
    }
  }
  assert.ok(found.length <= 4, JSON.stringify(found));
});

test("no change is counted in the season's first period, and a shift after it is found", () => {
  // A 12-sigma cycle, and a shift half a day after the first period: before the season has been
  // seen once, the swing would read as changes.
  const shiftAt = Math.round(1.5 * 1440);
  const values = daily("warm-up", 3, 12, 6, shiftAt);
  const state = collapseKernel.init(config({ season_us: DAY_US }), "c");
  const first = run(state, values.slice(0, 1440));
  assert.is(first.changes.length, 0, JSON.stringify(first.changes.map((c) => c.changeIndex)));
  assert.ok(first.prob.every((p) => p === 0), "no new-regime probability in the warm-up");
  const rest = run(state, values.slice(1440), 1440).changes;
  assert.is(rest.length, 1, JSON.stringify(rest.map((c) => c.changeIndex)));
  assert.ok(Math.abs(rest[0]!.changeIndex - shiftAt) <= 10, `at ${rest[0]!.changeIndex}`);
});

/**
 * Three weeks of minutes from a Monday: a daily cycle of `amplitude` (peak at 15:00), on weekends
 * `dip` lower with a swing `swing` times as large (coming in as the kernel's calendar says), unit
 * noise, and `shift` added from `at`.
 */
function weekly(seed: string, dip: number, swing: number, shift: number, at: number): number[] {
  const rng = new Prng(seed);
  return Array.from({ length: 21 * 1440 }, (_, i) => {
    const hours = ((i * DT) % DAY_US) / 3_600e6;
    const w = weekendness(T0 + i * DT);
    const cycle = -10 * Math.cos(2 * Math.PI * (hours - 3) / 24) * (1 - (1 - swing) * w);
    return 100 + cycle - dip * w + rng.normal() + (i >= at ? shift : 0);
  });
}

test("weekends with their own level and swing are no change with season_weekend, and a real shift is one", () => {
  // After the first week: the weekend's features are learned over the first weekend.
  const shiftAt = Math.round(16.4 * 1440); // a Wednesday of the third week
  const values = weekly("weekend", 12, 0.4, 6, shiftAt);
  const afterWeek = (cs: CollapseChange[]) => cs.filter((c) => c.changeIndex >= 7 * 1440);
  const daily = afterWeek(
    run(collapseKernel.init(config({ season_us: DAY_US, ar_max: 0.9 }), "c"), values).changes,
  );
  assert.ok(daily.length >= 4, `a daily season alone: ${daily.length} changes`);
  const cfg = config({ season_us: DAY_US, ar_max: 0.9, season_weekend: 1 });
  const weekend = afterWeek(run(collapseKernel.init(cfg, "c"), values).changes);
  assert.is(weekend.length, 1, JSON.stringify(weekend.map((c) => c.changeIndex)));
  assert.ok(Math.abs(weekend[0]!.changeIndex - shiftAt) <= 10, `at ${weekend[0]!.changeIndex}`);
});

/**
 * Load that grows `growth` a day and swings 30% over the day with it (the swing grows too), with
 * AR(1) noise (phi 0.5, sd 2), `shift` added from `at`.
 */
function growing(seed: string, days: number, growth: number, shift: number, at: number): number[] {
  const rng = new Prng(seed);
  let e = 0;
  return Array.from({ length: days * 1440 }, (_, i) => {
    const hours = ((i * DT) % DAY_US) / 3_600e6;
    const load = 100 * (1 + growth * i / 1440);
    e = 0.5 * e + Math.sqrt(0.75) * rng.normal();
    const cycle = 1 - 0.3 * Math.cos(2 * Math.PI * (hours - 3) / 24);
    return load * cycle + 2 * e + (i >= at ? shift : 0);
  });
}

test("a daily swing growing with the load is no change with the metrics settings' level drift, a shift is", () => {
  // The season's harmonics follow the growing swing only as fast as they forget, so a fixed line
  // reads the lag as a string of changes; a level that wanders slowly takes it in.
  const shiftAt = Math.round(7.3 * 1440);
  let fixed = 0, wandering = 0;
  for (const seed of ["a", "b", "c"]) {
    const values = growing(seed, 10, 0.01, 12, shiftAt);
    const found = (over: Partial<CollapseConfig>) =>
      run(collapseKernel.init(config({ ...metricsCollapseConfig, ...over }), "c"), values)
        .changes.filter((c) => c.changeIndex >= 1440);
    const isFalse = (c: CollapseChange) => Math.abs(c.changeIndex - shiftAt) > 10;
    fixed += found({ level_drift: 0 }).filter(isFalse).length;
    const wander = found({});
    const at = wander.map((c) => c.changeIndex);
    assert.ok(wander.some((c) => !isFalse(c)), `${seed}: the shift not found in ${at}`);
    wandering += wander.filter(isFalse).length;
  }
  assert.ok(fixed >= 12, `a fixed level: ${fixed} false changes`);
  assert.ok(wandering <= 2, `a wandering level: ${wandering} false changes`);
});

test("the noise's daily variance cycle is no change with a season", () => {
  // Noise four times larger at the peak than at the trough, around a daily cycle.
  const rng = new Prng("variance");
  const values = Array.from({ length: 5 * 1440 }, (_, i) => {
    const cycle = -Math.cos(2 * Math.PI * ((i * DT) % DAY_US) / DAY_US);
    return 100 + 10 * cycle + (2.5 + 1.5 * cycle) * rng.normal();
  });
  const flat = afterTwoDays(run(collapseKernel.init(config(), "c"), values).changes);
  assert.ok(flat.length >= 5, `without a season: ${flat.length} changes`);
  const seasonal = afterTwoDays(
    run(collapseKernel.init(config({ season_us: DAY_US }), "c"), values).changes,
  );
  assert.ok(seasonal.length <= 1, `with a season: ${seasonal.length} changes`);
});

test("correlated noise is no change with ar_max, and a real shift in it is still found", () => {
  // The correlation is learned over the first samples (a known warm-up): changes after 1,000.
  const late = (cs: CollapseChange[]) => cs.filter((c) => c.changeIndex >= 1000);
  const quiet = ar1("quiet", 20_000, 0.6, 0, Infinity);
  const plain = late(run(collapseKernel.init(config(), "c"), quiet).changes);
  assert.ok(plain.length >= 20, `independent model: ${plain.length} changes`);
  const white = late(run(collapseKernel.init(config({ ar_max: 0.9 }), "c"), quiet).changes);
  assert.ok(white.length <= 1, `prewhitened: ${white.length} changes`);
  const shifted = ar1("shift", 6000, 0.6, 3, 4000);
  const found = late(run(collapseKernel.init(config({ ar_max: 0.9 }), "c"), shifted).changes);
  assert.is(found.length, 1, JSON.stringify(found.map((c) => c.changeIndex)));
  assert.ok(Math.abs(found[0]!.changeIndex - 4000) <= 10, `at ${found[0]!.changeIndex}`);
});

test("ar_max 0 and season_us 0 leave the detector as it was (no correlation, no season)", () => {
  const values = ar1("same", 3000, 0.3, 4, 2000);
  const a = run(collapseKernel.init(config(), "c"), values);
  const b = run(collapseKernel.init(config({ season_harmonics: 3 }), "c"), values);
  assert.equal(a.prob, b.prob);
});

test("with a season and prewhitening the outputs are the same whatever the frame boundaries", () => {
  const values = daily("frames", 2, 6, 4, 2000).map((v, i) => v + 0.5 * Math.sin(i));
  const cfg = config({ season_us: DAY_US, season_harmonics: 2, ar_max: 0.9 });
  const whole = run(collapseKernel.init(cfg, "c"), values, 0, 4096);
  for (const batch of [1, 7, 500]) {
    const framed = run(collapseKernel.init(cfg, "c"), values, 0, batch);
    assert.equal(framed.prob, whole.prob, `frames of ${batch}`);
    assert.equal(framed.changes, whole.changes, `frames of ${batch}`);
  }
});

test("save() and load() are exact with a season and prewhitening learned", () => {
  const values = daily("exact", 3, 6, 4, 3000).map((v, i) => v + 0.5 * Math.sin(i));
  const cfg = config({ season_us: DAY_US, season_harmonics: 2, ar_max: 0.9 });
  const a = collapseKernel.init(cfg, "c");
  run(a, values.slice(0, 2500));
  const bytes = collapseKernel.save(a);
  const b = collapseKernel.load(bytes);
  assert.equal(collapseKernel.save(b), bytes);
  const ra = run(a, values.slice(2500), 2500);
  const rb = run(b, values.slice(2500), 2500);
  assert.equal(ra.prob, rb.prob);
  assert.equal(ra.changes, rb.changes);
  assert.equal(collapseKernel.save(a), collapseKernel.save(b));
});

test("load() reads a format-5 state (before the weekend), and finds the change the format-5 kernel found", () => {
  const bytes = Uint8Array.from(atob(FORMAT5_STATE_BASE64), (c) => c.charCodeAt(0));
  assert.is(new DataView(bytes.buffer).getFloat64(0, true), 5);
  const state = collapseKernel.load(bytes);
  assert.is(state.data[0], 10);
  // The same series as when it was saved (see _format5_state.ts): day 4.
  const rng = new Prng("format5");
  const values = Array.from({ length: 4 * 1440 }, (_, i) => {
    const hours = ((i * DT) % DAY_US) / 3_600e6;
    const cycle = 8 * cosFast(2 * Math.PI * (hours - 3) / 24);
    return 100 - cycle + rng.normal() + (i >= 3.5 * 1440 ? 6 : 0);
  });
  const rest = run(state, values.slice(3 * 1440), 3 * 1440);
  const f = new Float64Array(1), w = new Uint32Array(f.buffer);
  let h = 0;
  for (const p of rest.prob) {
    f[0] = p;
    h = (Math.imul(h, 31) + (w[0]! ^ w[1]!)) | 0;
  }
  assert.equal(rest.changes.map((c) => c.changeIndex), FORMAT5_DAY4.changes);
  // The change_prob bits were the format-5 kernel's (FORMAT5_DAY4.probHash) up to format 7; since
  // format 8 the season's fit updates its covariance from the upper triangle (P is symmetric), and
  // a change confirmed before it has lasted min_gap_samples relevels the season once it has
  // (kernel.ts, RELEVEL_AFTER_GAP), so they differ: this is the current kernel's hash, the same on
  // every runtime.
  assert.is.not(h, FORMAT5_DAY4.probHash);
  assert.is(h, 1819809998);
  // And it saves as format 10, which loads exactly.
  const again = collapseKernel.save(state);
  assert.equal(collapseKernel.save(collapseKernel.load(again)), again);
});

test("load() reads a format-6 state (before the sharp weekend), keeps what it learned, and finds the change", () => {
  const bytes = Uint8Array.from(atob(FORMAT6_STATE_BASE64), (c) => c.charCodeAt(0));
  const old = new Float64Array(bytes.buffer.slice(0));
  assert.is(old[0], 6);
  const state = collapseKernel.load(bytes);
  assert.is(state.data[0], 10);
  // The season's level, 2 harmonics and 3 weekend features are where they were, by index; the
  // sharp and the fast weekend come after them, unlearned: coefficient 0, the prior's variance.
  const m6 = 1 + 2 * 2 + 3, C6 = SEASON_COEFFS - 2, at6 = old.length - 2 * C6 * (1 + C6);
  assert.equal(Array.from(state.season.subarray(0, m6)), Array.from(old.subarray(at6, at6 + m6)));
  for (const i of [m6, m6 + 1]) {
    assert.is(state.season[i], 0);
    assert.is(state.season[SEASON_COEFFS + i * SEASON_COEFFS + i], SEASON_PRIOR_VARIANCE);
  }
  assert.is(state.season[SEASON_COEFFS + 2 * SEASON_COEFFS + 2], old[at6 + C6 + 2 * C6 + 2]);
  // The same series as when it was saved (see _format6_state.ts): days 8 to 11, one change.
  const rng = new Prng("format6");
  const values = Array.from({ length: 11 * 1440 }, (_, i) => {
    const hours = ((i * DT) % DAY_US) / 3_600e6;
    const w = weekendness(T0 + i * DT);
    const cycle = 10 * cosFast(2 * Math.PI * (hours - 3) / 24) * (1 - 0.6 * w);
    return 100 - cycle - 12 * w + rng.normal() + (i >= 9.5 * 1440 ? 6 : 0);
  });

  // Its configuration applied again is the same one: the season is kept, not reset.
  collapseKernel.configure!(
    state,
    config({ season_us: DAY_US, ar_max: 0.9, season_weekend: 1 }),
  );
  assert.is(state.season[1], old[at6 + 1]);
  const rest = run(state, values.slice(8 * 1440), 8 * 1440);
  assert.equal(rest.changes.map((c) => c.changeIndex), FORMAT6_DAYS_8_TO_11.changes);
  // And it saves as format 10, which loads exactly.
  const again = collapseKernel.save(state);
  assert.equal(collapseKernel.save(collapseKernel.load(again)), again);
});

test("load() reads a format-7 state (before the fast weekend), keeps what it learned, and finds the change", () => {
  const bytes = Uint8Array.from(atob(FORMAT7_STATE_BASE64), (c) => c.charCodeAt(0));
  const old = new Float64Array(bytes.buffer.slice(0));
  assert.is(old[0], 7);
  const state = collapseKernel.load(bytes);
  assert.is(state.data[0], 10);
  // The season's level, 2 harmonics and 4 weekend features are where they were, by index, and so
  // are their covariances; the fast weekend comes after them, unlearned.
  const m7 = 1 + 2 * 2 + 4, C7 = SEASON_COEFFS - 1, at7 = old.length - 2 * C7 * (1 + C7);
  assert.equal(Array.from(state.season.subarray(0, m7)), Array.from(old.subarray(at7, at7 + m7)));
  for (let i = 0; i < m7; i++) {
    const row = Array.from(state.season.subarray(SEASON_COEFFS + i * SEASON_COEFFS).slice(0, m7));
    assert.equal(row, Array.from(old.subarray(at7 + C7 + i * C7, at7 + C7 + i * C7 + m7)));
  }
  assert.is(state.season[m7], 0);
  assert.is(state.season[SEASON_COEFFS + m7 * SEASON_COEFFS + m7], SEASON_PRIOR_VARIANCE);
  assert.is(state.data[H_SEASON_M], m7 + 1);
  // The same series as when it was saved (see _format7_state.ts), days 8 to 15 (through the second
  // weekend, where the fast weekend is learned): the change the format-7 kernel found.
  const rng = new Prng("format7");
  const values = Array.from({ length: 15 * 1440 }, (_, i) => {
    const hours = ((i * DT) % DAY_US) / 3_600e6;
    const w = weekendness(T0 + i * DT);
    const cycle = 10 * cosFast(2 * Math.PI * (hours - 3) / 24) * (1 - 0.6 * w);
    return 100 - cycle - 12 * w + rng.normal() + (i >= 9.5 * 1440 ? 6 : 0);
  });
  const cfg = config({ season_us: DAY_US, season_harmonics: 2, ar_max: 0.9, season_weekend: 1 });
  collapseKernel.configure!(state, cfg);
  assert.is(state.season[1], old[at7 + 1]);
  const rest = run(state, values.slice(8 * 1440), 8 * 1440);
  assert.equal(rest.changes.map((c) => c.changeIndex), FORMAT7_DAYS_8_TO_15.changes);
  const again = collapseKernel.save(state);
  assert.equal(collapseKernel.save(collapseKernel.load(again)), again);
});

test("sparse counts that start with zeros do not give the noise's season an absurd swing", () => {
  // Error counts of a quiet service: Poisson, 0.3 to 0.8 an interval over the day, starting with a
  // run of zeros. Their first residuals are 0 and their logs huge and negative: learnt from, they
  // gave the noise's season daily swings of hundreds of log units (834 to 843 here on main
  // a4a29c2) and 54 to 65 changes a week, at the same hours every day (seen on the metrics feed);
  // now 0.2 to 0.3.
  for (const seed of ["counts-1", "counts-2", "counts-3"]) {
    const rng = new Prng(seed);
    const values = Array.from({ length: 7 * 1440 }, (_, i) => {
      if (i < 8) return 0;
      const hours = ((i * DT) % DAY_US) / 3_600e6;
      return rng.poisson(0.55 - 0.25 * cosFast(2 * Math.PI * (hours - 3) / 24));
    });
    const state = collapseKernel.init(config({ season_us: DAY_US, ar_max: 0.9 }), "c");
    const { changes } = run(state, values);
    const swing = Math.hypot(state.spreadSeason[1]!, state.spreadSeason[2]!);
    assert.ok(swing < 2, `${seed}: the noise season's swing is ${swing} log units`);
    // Counts this few have at least their Poisson variance (_count_floor.ts): 13 or 14 changes a
    // week without that floor (main 4c49d1e), 0 to 1 with it.
    assert.ok(changes.length <= 3, `${seed}: ${changes.length} changes in a week`);
  }
});

test("few counts: a step of the rate is still found, and the floor is Poisson's only for counts", () => {
  // A rate of 0.5 to 1.5 an interval over the day, that steps up by 2 on day 4: the
  // floor widens the predictive to the Poisson variance, which must not hide a real change. Without
  // the floor (main 4c49d1e), step-1 gives 4 changes, 3 of them false; with it, 1 to 2, all at
  // the step, confirmed 19 to 35 samples after it.
  for (const seed of ["step-1", "step-2", "step-3"]) {
    const rng = new Prng(seed);
    const at = 4 * 1440 + 600;
    const values = Array.from({ length: 6 * 1440 }, (_, i) => {
      const hours = ((i * DT) % DAY_US) / 3_600e6;
      const rate = 1 - 0.5 * cosFast(2 * Math.PI * (hours - 3) / 24);
      return rng.poisson(i >= at ? rate + 2 : rate);
    });
    const state = collapseKernel.init(config({ season_us: DAY_US, ar_max: 0.9 }), "c");
    const { changes } = run(state, values);
    const found = changes.filter((c) => Math.abs(c.changeIndex - at) <= 60);
    assert.ok(found.length >= 1, `${seed}: changes at ${changes.map((c) => c.changeIndex)}`);
    assert.ok(changes.length <= 3, `${seed}: ${changes.length} changes`);
  }
  // 2 counts predicted, quantum 1, noise factor 0.5, no dispersion learnt (a header of zeros:
  // phi 1): Poisson variance 2, in units of g 4.
  const h = new Float64Array(HEADER);
  assert.equal(countFloor(h, 3, 2, 1, 0.5, 0.1), 4);
  assert.equal(countFloor(h, 3, 2, 1, 0.5, 5), 5);
  // Not counts (a fraction, a negative value, a finer quantum), or not few: the floor as given.
  for (const [x, predicted, quantum] of [[2.5, 2, 1], [-1, 2, 1], [3, 2, 0.5], [30, 25, 1]]) {
    assert.equal(countFloor(h, x!, predicted!, quantum!, 1, 0.1), 0.1, `${x}, ${predicted}`);
  }
  // A rate predicted at 0 or under is taken at COUNT_RATE_MIN.
  assert.equal(countFloor(h, 0, 0, 1, 1, 0.1), COUNT_RATE_MIN);
  assert.equal(countFloor(h, 1, -0.3, 1, 1, 0.1), COUNT_RATE_MIN);
  assert.equal(countFloor(h, 1, COUNT_FLOOR_MAX - 1, 1, 1, 0.1), COUNT_FLOOR_MAX - 1);
});

test("configure(): a new runs_max keeps the season, a new period starts it afresh", () => {
  const values = daily("configure", 2, 6, 0, Infinity);
  const state = collapseKernel.init(config({ season_us: DAY_US }), "c");
  run(state, values);
  const learned = Array.from(state.season.subarray(0, 3));
  assert.ok(Math.abs(learned[1]!) > 1, `learned ${learned}`);
  collapseKernel.configure!(state, config({ season_us: DAY_US, runs_max: 16 }));
  assert.equal(Array.from(state.season.subarray(0, 3)), learned);
  collapseKernel.configure!(state, config({ season_us: DAY_US / 2, runs_max: 16 }));
  assert.equal(Array.from(state.season.subarray(1, 3)), [0, 0]);
});

test("a period equal to the sampling interval cannot wind the fit up", () => {
  const rng = new Prng("windup");
  const values = Array.from({ length: 20_000 }, () => 10 + rng.normal());
  const state = collapseKernel.init(config({ season_us: DT, ar_max: 0.9 }), "c");
  const { changes, prob } = run(state, values);
  assert.ok(changes.length <= 1, `${changes.length} changes`);
  assert.ok(prob.every((p) => Number.isFinite(p)));
  assert.ok(Array.from(state.season).every((v) => Number.isFinite(v)));
});

test.run();
