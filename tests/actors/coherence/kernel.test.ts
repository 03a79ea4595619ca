import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  coherenceCounters,
  coherenceKernel,
  type CoherenceResult,
  type CoherenceState,
  covarianceOf,
  initCoherence,
  loadCoherence,
  saveCoherence,
  stepCoherence,
  topLoadings,
} from "../../../actors/coherence/kernel.ts";
import { type CoherenceConfig, parseCoherenceConfig } from "../../../actors/coherence/config.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { BAR_US, eigenvalues, factorFeed, feedBar, referenceRatio, T0 } from "./_support.ts";

const test = suite("coherence kernel");

function config(raw: Record<string, unknown> = {}): CoherenceConfig {
  return parseCoherenceConfig({ bar_us: BAR_US, lag_bars_max: 4, ...raw });
}

function frame(channel: string, bars: number[], prices: number[], offsetUs = 0) {
  return {
    channel,
    seq0: 0,
    t: new Float64Array(bars.map((b) => T0 + b * BAR_US + offsetUs)),
    v: new Float64Array(prices),
  };
}

/** Steps of a list of results, flattened: [t, ratio, shift] per step. */
function steps(results: CoherenceResult[]): number[][] {
  const out: number[][] = [];
  for (const r of results) {
    for (let i = 0; i < r.steps; i++) out.push([r.t[i]!, r.ratio[i]!, r.shift[i]!]);
  }
  return out;
}

/** EW covariance of return vectors, the textbook way (West's update), for checking alignment. */
function ewCovariance(returns: number[][], halfLife: number): number[] {
  const m = returns[0]!.length;
  const a = 1 - Math.pow(2, -1 / halfLife);
  const mean = new Array<number>(m).fill(0);
  const cov = new Array<number>(m * m).fill(0);
  for (const r of returns) {
    const d = r.map((x, i) => x - mean[i]!);
    d.forEach((x, i) => mean[i] = mean[i]! + a * x);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        cov[i * m + j] = (1 - a) * (cov[i * m + j]! + a * d[i]! * d[j]!);
      }
    }
  }
  return cov;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number) {
  assert.is(actual.length, expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    assert.ok(diff <= rel * scale, `entry ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

test("the absorption ratio equals a full eigen-decomposition of the same covariance to 1e-6", () => {
  for (
    const [n, raw] of [[30, {}], [24, { top_n: 3 }], [3, {}], [60, { half_life_bars: 15 }]] as const
  ) {
    const feed = factorFeed(n, 11 + n);
    const s = initCoherence(config({ half_life_bars: 40, ...raw }), "all");
    let checked = 0;
    let worst = 0;
    for (let bar = 0; bar < 220; bar++) {
      const vol = Math.floor(bar / 60) % 2 === 0 ? 0.004 : 0.02;
      const results = feedBar(s, feed.names, feed.next(vol), bar);
      if (results.every((r) => r.steps === 0)) continue;
      const ref = referenceRatio(s);
      const err = Math.abs(s.ratio - ref) / ref;
      worst = Math.max(worst, err);
      checked++;
    }
    assert.ok(checked >= 200, `checked ${checked} bars`);
    assert.ok(worst <= 1e-6, `N=${n}: worst relative error ${worst}`);
  }
});

test("a one-factor model with equal idiosyncratic variances converges to its ratio on paper", () => {
  // r_i = β_i f + ε_i, β_i = 0.5 + 0.1 i (i = 0..9), var f = σ_f² = 1e-4, var ε_i = s² = 1e-4.
  // Σ = σ_f² ββᵀ + s² I has eigenvalues σ_f² |β|² + s² (once) and s² (nine times), with
  // |β|² = Σ (0.5 + 0.1 i)² = 2.5 + 4.5 + 2.85 = 9.85. With N = 10, n = ceil(10 / 5) = 2:
  // AR = (σ_f² |β|² + 2 s²) / (σ_f² |β|² + 10 s²) = (9.85e-4 + 2e-4) / (9.85e-4 + 1e-3) = 0.596977...
  const paper = (9.85e-4 + 2e-4) / (9.85e-4 + 1e-3);
  const prng = new Prng(2024);
  const n = 10;
  const names = Array.from({ length: n }, (_, i) => `f${i}`);
  const beta = names.map((_, i) => 0.5 + 0.1 * i);
  const prices = new Float64Array(n).fill(50);
  const s = initCoherence(config({ half_life_bars: 1e6 }), "all");
  for (let bar = 0; bar <= 20_000; bar++) {
    const f = 0.01 * prng.normal();
    for (let i = 0; i < n; i++) {
      prices[i] = prices[i]! * Math.exp(beta[i]! * f + 0.01 * prng.normal());
    }
    feedBar(s, names, prices, bar);
  }
  assert.ok(Math.abs(paper - 0.5969773299748111) < 1e-12);
  assert.ok(Math.abs(s.ratio - paper) < 0.01, `ratio ${s.ratio} vs ${paper}`);
  // The first eigenvector is the loadings' direction: the largest β loads most.
  assert.equal(topLoadings(s, 3).map((l) => l.channel), ["f9", "f8", "f7"]);
});

test("a one-factor model with unequal loadings and variances converges to Σ's ratio", () => {
  // Σ = σ_f² ββᵀ + diag(s_i²); its ratio from a full decomposition of Σ itself.
  const n = 12;
  const prng = new Prng(77);
  const beta = Array.from({ length: n }, (_, i) => 0.2 + 0.15 * (i % 6));
  const idio = Array.from({ length: n }, (_, i) => 0.004 + 0.001 * i);
  const sigmaF = 0.008;
  const sigma = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      sigma[i * n + j] = sigmaF * sigmaF * beta[i]! * beta[j]! + (i === j ? idio[i]! ** 2 : 0);
    }
  }
  const ev = eigenvalues(sigma, n);
  const top = Math.ceil(n / 5);
  const theory = ev.slice(0, top).reduce((a, b) => a + b, 0) / ev.reduce((a, b) => a + b, 0);
  const names = Array.from({ length: n }, (_, i) => `u${i}`);
  const prices = new Float64Array(n).fill(20);
  const s = initCoherence(config({ half_life_bars: 1e6 }), "all");
  for (let bar = 0; bar <= 20_000; bar++) {
    const f = sigmaF * prng.normal();
    for (let i = 0; i < n; i++) {
      prices[i] = prices[i]! * Math.exp(beta[i]! * f + idio[i]! * prng.normal());
    }
    feedBar(s, names, prices, bar);
  }
  assert.ok(Math.abs(s.ratio - theory) < 0.01, `ratio ${s.ratio} vs theory ${theory}`);
});

test("saveCoherence()/loadCoherence() mid-stream continue bit for bit, pending bars included", () => {
  const feed = factorFeed(20, 5);
  const cfg = config({ half_life_bars: 30, shift_long_half_life_bars: 50, warmup_bars: 10 });
  const a = initCoherence(cfg, "all");
  for (let bar = 0; bar < 90; bar++) feedBar(a, feed.names, feed.next(), bar);
  // Half of bar 90 is in: its price and bar 89's pending state must survive the round trip.
  const p90 = feed.next();
  for (let i = 0; i < 10; i++) stepCoherence(a, frame(feed.names[i]!, [90], [p90[i]!]));
  const bytes = saveCoherence(a);
  const b = loadCoherence(bytes);
  assert.equal(Array.from(saveCoherence(b)), Array.from(bytes));
  const out: CoherenceResult[][] = [[], []];
  [a, b].forEach((s, k) => {
    for (let i = 10; i < 20; i++) {
      out[k]!.push(stepCoherence(s, frame(feed.names[i]!, [90], [p90[i]!])));
    }
  });
  for (let bar = 91; bar < 160; bar++) {
    const p = feed.next(bar > 120 ? 0.03 : 0.005);
    for (const [k, s] of [a, b].entries()) out[k]!.push(...feedBar(s, feed.names, p, bar));
  }
  const sa = steps(out[0]!);
  assert.ok(sa.length >= 69);
  assert.equal(steps(out[1]!), sa);
  assert.equal(
    out[1]!.map((r) => r.topChannels),
    out[0]!.map((r) => r.topChannels),
  );
  assert.equal(coherenceCounters(b), coherenceCounters(a));
  assert.equal(Array.from(saveCoherence(b)), Array.from(saveCoherence(a)));
});

test("loadCoherence() rejects truncated and foreign bytes with a clear error", () => {
  const s = initCoherence(config(), "all");
  const bytes = saveCoherence(s);
  assert.throws(() => loadCoherence(bytes.subarray(0, bytes.length - 3)), /Cannot load/);
  assert.throws(() => loadCoherence(new Uint8Array(16)), /bad magic/);
});

test("a bar closes once every channel has data in a later bar; the last price in a bar counts", () => {
  const s = initCoherence(config({ half_life_bars: 5, lag_bars_max: 2 }), "all");
  // A sends three bars in one frame before B is even known: the join window (data spanning no
  // more than the lag) keeps them open for B.
  let r = stepCoherence(s, frame("A", [0, 0, 1, 2], [9, 10, 11, 12.1]));
  assert.is(r.steps, 0);
  r = stepCoherence(s, frame("B", [0, 1], [20, 20.4]));
  assert.is(r.steps, 0);
  assert.is(coherenceCounters(s).bars, 0);
  // Bar 3 ends the window: bar 0 closes (base prices only, no step), then bar 1.
  r = stepCoherence(s, frame("B", [2, 3], [20.4, 19.99]));
  assert.is(coherenceCounters(s).bars, 2);
  assert.equal(Array.from(r.t), [T0 + BAR_US]);
  // Bar 2 waits for A to move past it.
  r = stepCoherence(s, frame("A", [3], [12]));
  assert.equal(Array.from(r.t), [T0 + 2 * BAR_US]);
  // Returns: bar 1 (ln 11/10, ln 20.4/20), bar 2 (ln 12.1/11, 0): A's bar-0 price is 10, not 9.
  const expected = ewCovariance([
    [Math.log(11 / 10), Math.log(20.4 / 20)],
    [Math.log(12.1 / 11), 0],
  ], 5);
  assertClose(covarianceOf(s).matrix, expected, 1e-14);
});

test("interleaving does not matter: frames of many bars give the same steps as bar by bar", () => {
  const feed = factorFeed(6, 9);
  const bars = Array.from({ length: 80 }, () => Array.from(feed.next()));
  const cfg = config({ half_life_bars: 10, lag_bars_max: 24 });
  const one = initCoherence(cfg, "all");
  const many = initCoherence(cfg, "all");
  const a: CoherenceResult[] = [];
  const b: CoherenceResult[] = [];
  bars.forEach((p, bar) => a.push(...feedBar(one, feed.names, new Float64Array(p), bar)));
  for (let start = 0; start < 80; start += 20) {
    const idx = Array.from({ length: 20 }, (_, i) => start + i);
    for (const [c, name] of feed.names.entries()) {
      b.push(stepCoherence(many, frame(name, idx, idx.map((bar) => bars[bar]![c]!))));
    }
  }
  const sa = steps(a);
  const sb = steps(b);
  // Bar 79 is still open in both, bar 0 has no returns: bars 1..78 agree exactly.
  assert.is(sa.length, 78);
  assert.equal(sb, sa);
});

test("a silent channel holds bars back at most lag_bars_max bars, then is dormant until it sends", () => {
  const s = initCoherence(config({ lag_bars_max: 3, half_life_bars: 5 }), "all");
  const a = (bar: number) => stepCoherence(s, frame("A", [bar], [10 + bar]));
  const b = (bar: number, price = 20 - bar) => stepCoherence(s, frame("B", [bar], [price]));
  for (let bar = 0; bar <= 5; bar++) a(bar), b(bar);
  assert.is(coherenceCounters(s).bars, 5); // bars 0..4; bar 5 waits for both to move past it
  // B goes silent. A's bars 6..8 keep bar 5 open (not more than 3 bars newer).
  for (let bar = 6; bar <= 8; bar++) a(bar);
  assert.is(coherenceCounters(s).bars, 5);
  // Bar 9 is 4 > 3 bars newer than bar 5: bar 5 closes, B becomes dormant, and A alone drives.
  const r = a(9);
  assert.is(coherenceCounters(s).dormant, 1);
  assert.equal(Array.from(r.t), [5, 6, 7, 8].map((bar) => T0 + bar * BAR_US));
  // B returns: no longer dormant, and its return spans the gap (within gap_bars_max).
  b(10, 16), a(10);
  assert.is(coherenceCounters(s).bars, 10);
  a(11);
  assert.is(coherenceCounters(s).bars, 10, "bar 10 waits for B again");
  b(11, 15);
  assert.is(coherenceCounters(s).bars, 11);
  const returns: number[][] = [];
  for (let bar = 1; bar <= 10; bar++) {
    const rb = bar <= 5 ? Math.log((20 - bar) / (21 - bar)) : bar === 10 ? Math.log(16 / 15) : 0;
    returns.push([Math.log((10 + bar) / (9 + bar)), rb]);
  }
  assertClose(covarianceOf(s).matrix, ewCovariance(returns, 5), 1e-14);
});

test("a channel silent for more than gap_bars_max bars restarts from a new base price", () => {
  const s = initCoherence(config({ gap_bars_max: 2, half_life_bars: 5 }), "all");
  const a = (bar: number) => stepCoherence(s, frame("A", [bar], [10 + bar]));
  const b = (bar: number, price: number) => stepCoherence(s, frame("B", [bar], [price]));
  a(0), b(0, 20), a(1), b(1, 21);
  // B falls silent; A alone closes bars 1..5 once bar 6 is more than lag_bars_max (4) newer.
  for (let bar = 2; bar <= 6; bar++) a(bar);
  b(6, 30), b(7, 31), a(7); // bar 6: B's 30 comes 5 bars after its 21 (> 2): a new base
  a(8), b(8, 32); // bar 7: B's return ln(31 / 30)
  assert.is(coherenceCounters(s).restarts, 1);
  assert.is(coherenceCounters(s).bars, 8);
  const returns = [
    [Math.log(11 / 10), Math.log(21 / 20)],
    [Math.log(12 / 11), 0],
    [Math.log(13 / 12), 0],
    [Math.log(14 / 13), 0],
    [Math.log(15 / 14), 0],
    [Math.log(16 / 15), 0],
    [Math.log(17 / 16), Math.log(31 / 30)],
  ];
  assertClose(covarianceOf(s).matrix, ewCovariance(returns, 5), 1e-14);
});

test("a late joiner enters with its first return; N and n follow it", () => {
  const feed = factorFeed(10, 3);
  const s = initCoherence(config(), "all");
  const early = feed.names.slice(0, 5);
  let last: CoherenceResult | undefined;
  for (let bar = 0; bar < 40; bar++) {
    const p = feed.next();
    const names = bar < 20 ? early : feed.names;
    for (const [i, name] of names.entries()) {
      last = stepCoherence(s, frame(name, [bar], [p[i]!]));
    }
    if (bar === 19) assert.is(s.entered, 5);
    if (bar === 20) assert.is(s.entered, 5, "joined, but a first price is not a return");
  }
  assert.is(s.entered, 10);
  assert.is(last!.last!.channels, 10);
  assert.is(last!.last!.top, 2);
  assert.ok(Math.abs(s.ratio - referenceRatio(s)) / referenceRatio(s) < 1e-6);
});

test("NaN, infinite, zero and negative prices are skipped and counted, changing nothing else", () => {
  const feed = factorFeed(5, 4);
  const clean = initCoherence(config(), "all");
  const dirty = initCoherence(config(), "all");
  const a: CoherenceResult[] = [];
  const b: CoherenceResult[] = [];
  let rejected = 0;
  let invalid = 0;
  for (let bar = 0; bar < 30; bar++) {
    const p = feed.next();
    for (const [i, name] of feed.names.entries()) {
      a.push(stepCoherence(clean, frame(name, [bar], [p[i]!])));
      const bad = [NaN, Infinity, 0, -p[i]!][(bar + i) % 4]!;
      if (!Number.isFinite(bad)) invalid++;
      // The bad value comes later in the bar than the good one, so it would win if it counted.
      const r = stepCoherence(dirty, {
        channel: name,
        seq0: 0,
        t: new Float64Array([T0 + bar * BAR_US, T0 + bar * BAR_US + 10]),
        v: new Float64Array([p[i]!, bad]),
      });
      rejected += r.rejected;
      b.push(r);
    }
  }
  assert.is(rejected, 150);
  const counters = coherenceCounters(dirty);
  assert.is(counters.invalid_samples, invalid);
  assert.is(counters.nonpositive_prices, 150 - invalid);
  assert.ok(invalid > 50 && invalid < 100);
  assert.equal(steps(b), steps(a));
  assert.ok(Number.isFinite(dirty.ratio));
});

test("a constant channel has zero variance; a wholly constant group has an undefined (NaN) ratio", () => {
  const s = initCoherence(config(), "all");
  const results: CoherenceResult[] = [];
  for (let bar = 0; bar < 10; bar++) {
    results.push(stepCoherence(s, frame("flat", [bar], [5])));
    results.push(stepCoherence(s, frame("flat2", [bar], [7])));
  }
  const st = steps(results);
  assert.ok(st.length >= 8);
  assert.ok(st.every(([, ratio, shift]) => Number.isNaN(ratio) && Number.isNaN(shift)));
  assert.equal(results.at(-1)!.topChannels, []);
  assert.is(results.at(-1)!.last!.ready, false);
  // A moving channel joins: the ratio is defined again, and the flat channels load nothing.
  const prng = new Prng(1);
  let price = 100;
  for (let bar = 10; bar < 40; bar++) {
    price *= Math.exp(0.01 * prng.normal());
    stepCoherence(s, frame("flat", [bar], [5]));
    stepCoherence(s, frame("flat2", [bar], [7]));
    stepCoherence(s, frame("mover", [bar], [price]));
  }
  assert.ok(Math.abs(s.ratio - 1) < 1e-12, `one moving channel holds all variance: ${s.ratio}`);
  const top = topLoadings(s, 3);
  assert.is(top[0]!.channel, "mover");
  assert.ok(Math.abs(top[0]!.loading - 1) < 1e-9);
  assert.ok(Math.abs(top[1]!.loading) < 1e-9);
});

test("late samples, foreign channels and channels over channels_max are skipped and counted", () => {
  const s = initCoherence(config({ groups: { g: ["a*", "x"] }, channels_max: 3 }), "g");
  for (let bar = 0; bar <= 6; bar++) {
    stepCoherence(s, frame("a1", [bar], [1 + bar]));
    stepCoherence(s, frame("x", [bar], [1 + bar]));
  }
  assert.is(coherenceCounters(s).bars, 6);
  // Older than the channel's last sample; and, from a new member, in a bar already closed.
  let r = stepCoherence(s, frame("a1", [1], [9]));
  assert.is(r.rejected, 1);
  r = stepCoherence(s, frame("a2", [0], [9]));
  assert.is(r.rejected, 1);
  assert.is(coherenceCounters(s).late_samples, 2);
  // Not a member of g.
  r = stepCoherence(s, frame("zz", [7, 8], [1, 1]));
  assert.is(r.rejected, 2);
  assert.is(coherenceCounters(s).foreign_samples, 2);
  // a1, x and a2 fill channels_max = 3.
  r = stepCoherence(s, frame("a3", [7], [1]));
  assert.is(r.rejected, 1);
  assert.is(coherenceCounters(s).overflow_samples, 1);
  assert.equal(s.names, ["a1", "x", "a2"]);
  // a2 never sent a valid sample, so it holds no bar back.
  stepCoherence(s, frame("a1", [7], [8]));
  stepCoherence(s, frame("x", [7], [8]));
  assert.is(coherenceCounters(s).bars, 7);
});

test("configure() applies new half-lives in place and restarts the group on a new bar width", () => {
  const feed = factorFeed(4, 8);
  const s = coherenceKernel.init(config(), "all");
  for (let bar = 0; bar < 20; bar++) feedBar(s, feed.names, feed.next(), bar);
  const bars = coherenceCounters(s).bars;
  coherenceKernel.configure!(s, config({ half_life_bars: 7 }));
  assert.is(s.config.half_life_bars, 7);
  assert.is(coherenceCounters(s).bars, bars);
  coherenceKernel.configure!(s, config({ bar_us: 2 * BAR_US }));
  assert.is(s.m, 0);
  assert.is(coherenceCounters(s).bars, 0);
});

test("the kernel is deterministic: two states fed the same frames save the same bytes", () => {
  const run = () => {
    const feed = factorFeed(15, 21);
    const s: CoherenceState = initCoherence(config({ half_life_bars: 12 }), "all");
    for (let bar = 0; bar < 60; bar++) feedBar(s, feed.names, feed.next(), bar);
    return saveCoherence(s);
  };
  assert.equal(Array.from(run()), Array.from(run()));
});

test.run();
