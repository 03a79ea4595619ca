import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type AnomalyConfig,
  anomalyCounters,
  anomalyKernel,
  type AnomalyResult,
  type AnomalyState,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";
import * as S from "../../../actors/anomaly/_state.ts";
import { KEYS_MAX, layOut } from "../../../actors/anomaly/_table.ts";
import type { SampleFrame } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly kernel");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const MINUTE_US = 60_000_000;
const CONFIG: AnomalyConfig = { ...defaultAnomalyConfig };

function frameOf(t: ArrayLike<number>, v: ArrayLike<number>, seq0 = 0): SampleFrame {
  return { channel: "c", seq0, t: Float64Array.from(t), v: Float64Array.from(v) };
}

/** Noisy values around 100 at 5-minute steps. */
function noisy(rng: Prng, n: number): { t: number[]; v: number[] } {
  const t: number[] = [], v: number[] = [];
  for (let i = 0; i < n; i++) {
    t.push(T0 + i * 5 * MINUTE_US);
    v.push(100 + rng.normal());
  }
  return { t, v };
}

function run(values: { t: number[]; v: number[] }, config = CONFIG): AnomalyResult {
  const st = anomalyKernel.init(config, "c");
  return anomalyKernel.step(st, frameOf(values.t, values.v));
}

/** The band's edges at sample i: expected -+ spread. */
function lowerAt(r: AnomalyResult, i: number): number {
  return r.expected[i]! - r.spread[i]!;
}
function upperAt(r: AnomalyResult, i: number): number {
  return r.expected[i]! + r.spread[i]!;
}

function assertWellFormed(r: AnomalyResult, n: number) {
  for (const col of [r.score, r.expected, r.spread]) assert.is(col.length, n);
  for (let i = 0; i < n; i++) {
    const s = r.score[i]!;
    assert.ok(s >= 0 && s <= 1, `score[${i}] = ${s}`);
    assert.ok(Number.isFinite(r.expected[i]!), `expected[${i}] = ${r.expected[i]}`);
    assert.ok(r.spread[i]! >= 0, `band at ${i}: spread ${r.spread[i]}`);
  }
}

test("a new state keeps its fixed arrays in one buffer, as a loaded one does, and saves the same", () => {
  const made = S.createAnomalyState(CONFIG);
  const fixed = [made.s, made.profile, made.ctx, made.runs, made.jumps];
  for (const a of fixed) assert.is(a.buffer, made.s.buffer);
  const loaded = S.loadAnomalyState(S.saveAnomalyState(made));
  assert.is(loaded.profile.buffer, loaded.s.buffer);
  assert.equal([...S.saveAnomalyState(loaded)], [...S.saveAnomalyState(made)]);
  // Views that overlap nothing: a write to one slot shows in that array alone.
  made.profile[0] = 7;
  made.runs[0] = 9;
  assert.is(made.s[made.s.length - 1], S.createAnomalyState(CONFIG).s[made.s.length - 1]);
  assert.is(made.ctx[made.ctx.length - 1], 0);
  assert.is(made.jumps[0], 0);
});

test("step() scores every sample in [0, 1] and brackets the expected value with the band", () => {
  const data = noisy(new Prng(1), 2000);
  const r = run(data);
  assertWellFormed(r, 2000);
  assert.is(r.valid, 2000);
  assert.is(r.seen, 2000);
  // The band tracks the level: the expected value is near 100 once warmed up.
  assert.ok(Math.abs(r.expected[1999]! - 100) < 1.5, `expected ${r.expected[1999]}`);
  const width = upperAt(r, 1999) - lowerAt(r, 1999);
  assert.ok(width > 2 && width < 12, `band width ${width}`);
});

test("step() scores nothing during the warm-up", () => {
  const data = noisy(new Prng(2), 400);
  data.v[50] = 1e6;
  const r = run(data);
  for (let i = 0; i < CONFIG.warmup_samples; i++) assert.is(r.score[i], 0, `score[${i}]`);
});

test("step() scores a value far outside the range seen so far as high as its record allows", () => {
  const data = noisy(new Prng(3), 1500);
  data.v[1200] = 140;
  const r = run(data);
  // A full raw score, capped by the few such rises of the channel's young bins.
  assert.ok(r.score[1200]! > 0.7, `score ${r.score[1200]}`);
  // Ordinary noise stays below the default threshold once the model has settled, but for the
  // first time an increment of 3.7 sigma comes (sample 1010: the increment view has not seen one
  // in 860 samples, a novelty of 6 bits; plain noise crosses 0.5 about as often as the level
  // views alone did: 14 vs 8 times in samples 1,000 to 10,000 over 5 seeds).
  let high = 0;
  for (let i = 1000; i < 1500; i++) if (i !== 1200 && r.score[i]! >= 0.5) high++;
  assert.ok(high <= 1, `${high} high scores`);
});

test("step() scores a never-seen value inside the range by its novelty in bits", () => {
  // Two levels, 0 and 10, with small noise: the middle of the range is never visited.
  const rng = new Prng(4);
  const t: number[] = [], v: number[] = [];
  for (let i = 0; i < 3000; i++) {
    t.push(T0 + i * MINUTE_US);
    v.push((Math.floor(i / 7) % 2 === 0 ? 0 : 10) + 0.05 * rng.normal());
  }
  v[2500] = 5;
  const r = run({ t, v });
  assert.ok(r.score[2500]! >= 0.5, `score ${r.score[2500]}`);
  assert.ok(r.score[2500]! < 1);
});

test("step() averages the surprise over grids shifted by a third of a bin", () => {
  // Warm-up range [0, 16]: bins of width 1; grid g has its edges at whole numbers minus g/3. A
  // channel alternating between 4.5 and 10.2 meets 4.8 (across grid 1's edge at 4.67 only) or 5.2
  // (across 4.67 and grid 0's 5) where 4.5 was due: a new level, not a new increment or slope.
  // Samples 10 minutes apart: the probe comes 13.5 days after 4.5's bins were first seen, so the
  // level's range has not grown next to it for a week.
  const probe = (x: number, grids: number) => {
    const t: number[] = [], v: number[] = [];
    for (let i = 0; i < 2200; i++) {
      t.push(T0 + i * 10 * MINUTE_US);
      v.push(i < 150 ? (i % 2 === 0 ? 0 : 16) : i % 2 === 0 ? 4.5 : 10.2);
    }
    v[2100] = x;
    return run({ t, v }, { ...CONFIG, grids, refractory_samples: 0 }).score[2100]!;
  };
  const one = probe(4.8, 3), two = probe(5.2, 3);
  assert.ok(one > 0.1, `new in one grid: ${one}`);
  assert.ok(Math.abs(two / one - 2) < 0.05, `new in two grids: ${two}, one: ${one}`);
  assert.is(probe(4.8, 1), 0); // the single grid has no edge between 4.5 and 4.8
  assert.ok(Math.abs(probe(5.2, 1) / one - 3) < 0.1, `single grid: ${probe(5.2, 1)}`);
});

test("step() reports one peak per incident: a weaker repeat inside the refractory period is 0", () => {
  const data = noisy(new Prng(5), 2000);
  data.v[1500] = 200;
  data.v[1510] = 300; // 10 samples later: inside the 30-sample refractory period
  data.v[1600] = 400; // after it: a new peak
  const r = run(data);
  // Full raw scores, each capped by the channel's record of such rises (a few in its first
  // hundreds of samples, then the spikes themselves).
  assert.ok(r.score[1500]! > 0.9, `first peak ${r.score[1500]}`);
  assert.is(r.score[1510], 0);
  assert.ok(r.score[1600]! > 0.8, `new peak ${r.score[1600]}`);
});

test("step() flags a missing daily peak through its time-of-day context", () => {
  // A daily square wave, high from 09:00 to 17:00 UTC, with a ripple whose extremes the warm-up
  // has seen, every 5 minutes for 20 days; on day 15 the peak does not come.
  const t: number[] = [], v: number[] = [];
  const perDay = 288;
  for (let i = 0; i < 20 * perDay; i++) {
    const hour = (i % perDay) / 12;
    const high = hour >= 9 && hour < 17;
    const day = Math.floor(i / perDay);
    t.push(T0 + i * 5 * MINUTE_US);
    v.push((high && day !== 15 ? 50 : 10) + [0, 1, 0, -1][i % 4]!);
  }
  const r = run({ t, v });
  let missingDay = 0, otherDays = 0;
  for (let i = 5 * perDay; i < 20 * perDay; i++) {
    if (r.score[i]! < 0.5) continue;
    if (Math.floor(i / perDay) === 15) missingDay++;
    else if (Math.floor(i / perDay) !== 16) otherDays++;
  }
  assert.ok(missingDay >= 1, "the day without its peak is flagged");
  assert.is(otherDays, 0);
});

test("step() skips and counts NaN, infinities and oversized values without changing the model", () => {
  const data = noisy(new Prng(7), 1200);
  const clean = run(data);
  const t = [...data.t], v = [...data.v];
  const bad = [NaN, Infinity, -Infinity, 1e300];
  const at = [10, 500, 800, 1100];
  // Insert one bad sample before each index (in reverse so indexes hold).
  for (let k = at.length - 1; k >= 0; k--) {
    t.splice(at[k]!, 0, data.t[at[k]!]!);
    v.splice(at[k]!, 0, bad[k]!);
  }
  const st = anomalyKernel.init(CONFIG, "c");
  const r = anomalyKernel.step(st, frameOf(t, v));
  assert.is(r.skipped, 4);
  assert.is(r.valid, 1200);
  assert.is(anomalyCounters(st).skipped, 4);
  assertWellFormed(r, 1204);
  const kept: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (Number.isFinite(v[i]!) && Math.abs(v[i]!) <= 1e100) kept.push(r.score[i]!);
    else assert.is(r.score[i], 0);
  }
  assert.equal(kept, Array.from(clean.score));
});

test("step() gives a skipped sample the last valid sample's band, whatever the frame cut", () => {
  const data = noisy(new Prng(16), 600);
  data.v[400] = NaN;
  const whole = run(data);
  assert.is(whole.expected[400], whole.expected[399]);
  assert.is(upperAt(whole, 400), upperAt(whole, 399));
  const st = anomalyKernel.init(CONFIG, "c");
  anomalyKernel.step(st, frameOf(data.t.slice(0, 400), data.v.slice(0, 400)));
  const rest = anomalyKernel.step(st, frameOf(data.t.slice(400), data.v.slice(400)));
  assert.is(rest.expected[0], whole.expected[400]);
  assert.is(lowerAt(rest, 0), lowerAt(whole, 400));
  assert.is(rest.spread[0], whole.spread[400]);
  assert.is(rest.score[0], 0);
});

test("step() skips samples with a non-finite time", () => {
  const data = noisy(new Prng(8), 300);
  data.t[200] = NaN;
  const st = anomalyKernel.init(CONFIG, "c");
  const r = anomalyKernel.step(st, frameOf(data.t, data.v));
  assert.is(r.skipped, 1);
  assert.is(r.score[200], 0);
  assertWellFormed(r, 300);
});

test("step() takes gaps in time and repeated timestamps in its stride", () => {
  const data = noisy(new Prng(9), 1500);
  for (let i = 700; i < 1500; i++) data.t[i] = data.t[i]! + 30 * 86_400_000_000; // a 30-day gap
  for (let i = 900; i < 910; i++) data.t[i] = data.t[900]!; // ten samples at one timestamp
  const r = run(data);
  assertWellFormed(r, 1500);
  let high = 0;
  for (let i = 1000; i < 1500; i++) if (r.score[i]! >= 0.5) high++;
  assert.ok(high <= 1, `${high} high scores on plain noise after a gap`);
});

test("step() on a constant series scores 0, then 1 for the first departure", () => {
  const t: number[] = [], v: number[] = [];
  for (let i = 0; i < 1000; i++) {
    t.push(T0 + i * MINUTE_US);
    v.push(i === 900 ? 42.5 : 42);
  }
  const r = run({ t, v });
  for (let i = 0; i < 900; i++) assert.is(r.score[i], 0, `score[${i}]`);
  // Beyond the range seen (a constant's bins are 1e-3 of its value wide): a full score.
  assert.is(r.score[900], 1);
  assert.is(r.expected[899], 42);
  assert.is(lowerAt(r, 899), 42);
  assertWellFormed(r, 1000);
});

test("step() on a series that starts with a spike learns it in the warm-up range", () => {
  const data = noisy(new Prng(10), 1500);
  data.v[0] = 150;
  data.v[1200] = 150;
  data.v[1300] = 300;
  const r = run(data);
  assertWellFormed(r, 1500);
  // The spike widened the range: a repeat is not beyond it (no spatial anomaly), twice is.
  assert.ok(r.score[1200]! < 1, `repeat of the first spike scored ${r.score[1200]}`);
  assert.is(r.score[1300], 1);
});

test("step() on an empty frame changes nothing and reports no change", () => {
  const st = anomalyKernel.init(CONFIG, "c");
  const r = anomalyKernel.step(st, frameOf([], []));
  assert.equal(r.changes, []);
  assert.is(r.valid, 0);
  assert.is(r.score.length, 0);
  assert.is(anomalyCounters(st).seen, 0);
});

function runFrames(
  st: AnomalyState,
  t: Float64Array,
  v: Float64Array,
  from: number,
  to: number,
  rng: Prng,
  out: number[],
): AnomalyState {
  for (let i = from; i < to;) {
    const n = Math.min(to - i, 1 + rng.int(300));
    const r = anomalyKernel.step(st, {
      channel: "c",
      seq0: i,
      t: t.subarray(i, i + n),
      v: v.subarray(i, i + n),
    });
    for (let k = 0; k < n; k++) out.push(r.score[k]!, r.expected[k]!, r.spread[k]!);
    i += n;
  }
  return st;
}

test("save() and load() restore a state that steps to bit-identical outputs", () => {
  for (const seed of [11, 12, 13]) {
    const rng = new Prng(seed);
    const n = 6000;
    const t = new Float64Array(n), v = new Float64Array(n);
    let x = 0;
    for (let i = 0; i < n; i++) {
      t[i] = T0 + i * 7 * MINUTE_US;
      x += rng.normal() * (rng.chance(0.01) ? 20 : 1); // a random walk with jumps: many keys
      v[i] = x + 5 * Math.sin(i / 40);
    }
    const whole: number[] = [];
    runFrames(anomalyKernel.init(CONFIG, "c"), t, v, 0, n, new Prng(seed + 100), whole);
    const pieces: number[] = [];
    let st = anomalyKernel.init(CONFIG, "c");
    const cuts = [0, 1 + rng.int(100), 150, 151 + rng.int(2000), 4000 + rng.int(1000), n];
    const frames = new Prng(seed + 100);
    for (let k = 0; k + 1 < cuts.length; k++) {
      st = runFrames(st, t, v, cuts[k]!, cuts[k + 1]!, frames, pieces);
      st = anomalyKernel.load(anomalyKernel.save(st));
    }
    assert.is(pieces.length, whole.length);
    let same = true;
    for (let i = 0; i < whole.length; i++) {
      if (!Object.is(whole[i], pieces[i])) {
        same = false;
        assert.unreachable(`seed ${seed}: output ${i} differs: ${whole[i]} vs ${pieces[i]}`);
      }
    }
    assert.ok(same);
    assert.ok(anomalyCounters(st).keys > 100, `seed ${seed}: ${anomalyCounters(st).keys} keys`);
  }
});

test("load() refuses a state saved in another format, naming it", () => {
  const st = anomalyKernel.init(CONFIG, "c");
  const bytes = anomalyKernel.save(st);
  const format = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  assert.is(anomalyKernel.load(bytes).s.length, st.s.length);
  // The format before, a time of birth per key, and the one before it, whose tables were at
  // most half full, are laid out alike.
  const times = savedInFormat(st, 25);
  assert.is(anomalyKernel.load(times).s.length, st.s.length);
  const half = times.slice();
  new DataView(half.buffer).setUint32(4, 24, true);
  assert.is(anomalyKernel.load(half).s.length, st.s.length);
  // Format 26 (its tallies as float64) and the two before 24 load too (tests below); the one
  // before them does not.
  assert.is(anomalyKernel.load(savedInFormat(st, 26)).s.length, st.s.length);
  const older = bytes.slice();
  new DataView(older.buffer).setUint32(4, 21, true);
  assert.throws(
    () => anomalyKernel.load(older),
    new RegExp(`format 21, expected ${format} \\(saved by another version`),
  );
});

/**
 * `st` as an older format saved it: 26 with the tallies as float64 after the contexts' place; 25
 * with each key's time of birth as a time and the warm-up values held; 23 and 22 with the warm-up
 * buffer padded with zeros to its whole length, 23 with the key set's form in the header (a list
 * as a list), 22 without (a list laid out in the table of KEYS_INITIAL slots it becomes).
 */
function savedInFormat(
  st: ReturnType<typeof anomalyKernel.init>,
  format: 22 | 23 | 25 | 26,
): Uint8Array {
  if (format === 26) return savedInFormat26(st);
  const tables = format === 22, list = !tables && st.index !== undefined;
  const laid = tables && st.index !== undefined ? layOut(st) : st;
  const nk = list ? st.listed : laid.keys.length;
  const padded = st.warm.length === 0 ? 0 : 3 * st.s[S.WARMUP]!;
  const nw = format === 25 && padded > 0 ? 3 * st.s[S.SEEN]! : padded;
  const warm = new Float64Array(nw);
  warm.set(st.warm.subarray(0, Math.min(nw, st.warm.length)));
  const born = Float64Array.from(
    laid.born.subarray(0, nk),
    (b, i) => laid.keys[i] === 0 ? 0 : st.births[b]!,
  );
  const floats = [st.s, st.profile, st.ctx, warm, born, st.runs, st.jumps];
  const n = floats.reduce((sum, a) => sum + a.length, 0);
  const head = [0x414e4f4d, format, st.ctx.length, nk, nw, ...(tables ? [] : [list ? 1 : 0])];
  const bytes = new Uint8Array(4 * head.length + 8 * n + 4 * nk);
  const view = new DataView(bytes.buffer);
  head.forEach((w, i) => view.setUint32(4 * i, w, true));
  let p = 4 * head.length;
  for (const a of floats) for (const x of a) view.setFloat64((p += 8) - 8, x, true);
  for (const k of laid.keys.subarray(0, nk)) view.setUint32((p += 4) - 4, k, true);
  return bytes;
}

/** `st` as format 26 saved it: format 27's numbers, its tallies as float64 in the order held. */
function savedInFormat26(st: ReturnType<typeof anomalyKernel.init>): Uint8Array {
  const list = st.index !== undefined, nk = list ? st.listed : st.keys.length;
  const nw = st.warm.length === 0 ? 0 : 3 * st.s[S.SEEN]!, nb = st.birthCount;
  const floats = [st.s, st.profile, st.ctx, st.warm.subarray(0, nw), st.births.subarray(0, nb)];
  floats.push(st.runs, st.jumps);
  const n = floats.reduce((sum, a) => sum + a.length, 0);
  const bytes = new Uint8Array(32 + 8 * n + 6 * nk);
  const view = new DataView(bytes.buffer);
  [0x414e4f4d, 26, st.ctx.length, nk, nw, list ? 1 : 0, nb, 0].forEach((w, i) =>
    view.setUint32(4 * i, w, true)
  );
  let p = 32;
  for (const a of floats) for (const x of a) view.setFloat64((p += 8) - 8, x, true);
  for (const k of st.keys.subarray(0, nk)) view.setUint32((p += 4) - 4, k, true);
  for (const b of st.born.subarray(0, nk)) view.setUint16((p += 2) - 2, b, true);
  return bytes;
}

for (const format of [22, 23, 25, 26] as const) {
  test(`a state saved in format ${format} loads, and goes on as the state saved`, () => {
    const data = noisy(new Prng(21), 3000);
    // In its warm-up; then a few keys (the set a list); then many (a table).
    for (const upTo of [40, 300, 3000]) {
      const st = anomalyKernel.init(CONFIG, "c");
      anomalyKernel.step(st, frameOf(data.t.slice(0, upTo), data.v.slice(0, upTo)));
      const loaded = anomalyKernel.load(savedInFormat(st, format));
      assert.is(loaded.index === undefined, st.index === undefined, `${upTo}: the same form`);
      const rest = frameOf(data.t.slice(upTo), data.v.slice(upTo), upTo);
      const a = anomalyKernel.step(st, rest), b = anomalyKernel.step(loaded, rest);
      assert.equal(Array.from(b.score), Array.from(a.score), `${upTo}: the same scores`);
      // The same keys born at the same times (the times held in another order: as met, as read).
      const same = savedInFormat(loaded, 25), was = savedInFormat(st, 25);
      assert.equal(same, was, `${upTo}: the same state`);
    }
  });
}

test("a state in its warm-up saves the warm-up values it holds, and goes on the same loaded", () => {
  const data = noisy(new Prng(22), 400);
  for (const upTo of [0, 1, 7, 8, 9, 40, CONFIG.warmup_samples - 1, CONFIG.warmup_samples]) {
    const st = anomalyKernel.init(CONFIG, "c");
    if (upTo > 0) anomalyKernel.step(st, frameOf(data.t.slice(0, upTo), data.v.slice(0, upTo)));
    const saved = anomalyKernel.save(st);
    const nw = new DataView(saved.buffer, saved.byteOffset).getUint32(16, true);
    const learned = upTo >= CONFIG.warmup_samples;
    assert.is(nw, learned ? 0 : 3 * upTo, `${upTo}: the values held`);
    const padded = savedInFormat(st, 23).length;
    // Less the padding, and a time of birth per key (23) against the times and an index (26).
    const nk = new DataView(saved.buffer, saved.byteOffset).getUint32(12, true);
    const nb = new DataView(saved.buffer, saved.byteOffset).getUint32(24, true);
    const births = 8 + 8 * nb + 2 * nk - 8 * nk;
    // And the tallies in the bytes they take, not 8 each.
    const nc = new DataView(saved.buffer, saved.byteOffset).getUint32(8, true);
    const tallies = new DataView(saved.buffer, saved.byteOffset).getUint32(28, true);
    const counted = tallies - 8 * (nc + 48);
    if (!learned) {
      assert.is(saved.length, padded - 8 * (3 * CONFIG.warmup_samples - nw) + births + counted);
    }
    if (upTo < 20) assert.ok(tallies < nc + 48 + 60, `${upTo}: ${tallies} bytes of tallies`);
    const loaded = anomalyKernel.load(saved);
    const rest = frameOf(data.t.slice(upTo), data.v.slice(upTo), upTo);
    const a = anomalyKernel.step(st, rest), b = anomalyKernel.step(loaded, rest);
    assert.equal(Array.from(b.score), Array.from(a.score), `${upTo}: the same scores`);
    assert.equal(anomalyKernel.save(loaded), anomalyKernel.save(st), `${upTo}: the same state`);
  }
  // A warm-up count that the values saved do not match.
  const st = anomalyKernel.init(CONFIG, "c");
  anomalyKernel.step(st, frameOf(data.t.slice(0, 10), data.v.slice(0, 10)));
  const wrong = anomalyKernel.save(st);
  new DataView(wrong.buffer, wrong.byteOffset).setFloat64(32 + 8 * S.SEEN, 11, true);
  assert.throws(() => anomalyKernel.load(wrong), /warm-up buffer of 30 values after 11 of 150/);
});

test("load() rejects bytes that are not a saved state", () => {
  assert.throws(() => anomalyKernel.load(new Uint8Array(10)), /shorter than the header/);
  const bytes = anomalyKernel.save(anomalyKernel.init(CONFIG, "c"));
  assert.throws(() => anomalyKernel.load(bytes.subarray(0, bytes.length - 4)), /bytes, expected/);
  const wrong = bytes.slice();
  wrong[0] = 0;
  assert.throws(() => anomalyKernel.load(wrong), /magic/);
  const form = bytes.slice();
  new DataView(form.buffer).setUint32(20, 7, true);
  assert.throws(() => anomalyKernel.load(form), /key set form 7/);
  const grids = bytes.slice();
  new DataView(grids.buffer).setFloat64(32 + 8 * S.GRIDS, 2, true); // the grid count alone
  assert.throws(() => anomalyKernel.load(grids), /contexts for 2 grids/);
  // A list of keys (they come last but their times of birth) holding one key twice.
  const data = noisy(new Prng(5), 100);
  const st = anomalyKernel.init(CONFIG, "c");
  anomalyKernel.step(st, frameOf(data.t, data.v));
  assert.ok(st.index !== undefined && st.listed >= 2, "a list of keys");
  const twice = anomalyKernel.save(st);
  const tallies = new DataView(twice.buffer, twice.byteOffset).getUint32(28, true);
  const end = twice.length - tallies - 2 * st.listed;
  twice.set(twice.subarray(end - 8, end - 4), end - 4);
  assert.throws(() => anomalyKernel.load(twice), /a key list holding a key twice/);
  // A key born at a time the state does not hold.
  const unborn = anomalyKernel.save(st);
  const lastBorn = unborn.length - tallies - 2;
  new DataView(unborn.buffer, unborn.byteOffset).setUint16(lastBorn, st.birthCount, true);
  assert.throws(() => anomalyKernel.load(unborn), /born at time \d+ of \d+/);
  // Tallies that end before the bytes do, or run past them.
  const longer = new Uint8Array(twice.length + 1);
  longer.set(anomalyKernel.save(st));
  new DataView(longer.buffer).setUint32(28, tallies + 1, true);
  assert.throws(() => anomalyKernel.load(longer), /tallies end at byte \d+ of \d+/);
  const shorter = anomalyKernel.save(st).slice(0, twice.length - 1);
  new DataView(shorter.buffer).setUint32(28, tallies - 1, true);
  assert.throws(() => anomalyKernel.load(shorter), /tallies: count 15 of 16 runs past/);
  // Key slots claimed that the state does not count, in a table of format 22.
  const full = savedInFormat(anomalyKernel.init(CONFIG, "c"), 22);
  full.fill(0xff, full.length - 64);
  assert.throws(() => anomalyKernel.load(full), /key table/);
});

test("configure() changes the refractory period of a live state and keeps its model", () => {
  const data = noisy(new Prng(14), 2000);
  data.v[1500] = 200;
  data.v[1510] = 300;
  const st = anomalyKernel.init(CONFIG, "c");
  anomalyKernel.step(st, frameOf(data.t.slice(0, 1000), data.v.slice(0, 1000)));
  anomalyKernel.configure!(st, { ...CONFIG, refractory_samples: 0, bins: 5 });
  const r = anomalyKernel.step(st, frameOf(data.t.slice(1000), data.v.slice(1000)));
  assert.ok(r.score[500]! > 0.8, `first spike ${r.score[500]}`);
  assert.ok(r.score[510]! > 0.8, "without a refractory period the second spike is reported");
  assert.is(anomalyCounters(st).seen, 2000);
});

test("the key set never counts past KEYS_MAX", () => {
  const rng = new Prng(15);
  const n = 5000;
  const t: number[] = [], v: number[] = [];
  for (let i = 0; i < n; i++) {
    t.push(T0 + i * MINUTE_US);
    v.push(i < 200 ? rng.normal() : rng.uniform(-1e6, 1e6));
  }
  const st = anomalyKernel.init(CONFIG, "c");
  // As though the set were all but full: the count is what the bound is checked against.
  st.s[S.KEYS] = KEYS_MAX - 10;
  const r = anomalyKernel.step(st, frameOf(t, v));
  assert.is(anomalyCounters(st).keys, KEYS_MAX);
  assertWellFormed(r, n);
});

test.run();
