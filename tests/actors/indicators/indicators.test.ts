import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ATR,
  BollingerBands,
  DonchianChannels,
  EMA,
  getZScore,
  hasCrossedOver,
  hasCrossedUnder,
  MACD,
  PercentB,
  ROC,
  RSI,
  SMA,
  StochasticOscillator,
} from "trading-signals";
import {
  atr,
  type BarColumns,
  barReturn,
  bollinger,
  crossesAboveSeries,
  crossesBelowSeries,
  ema,
  highest,
  lowest,
  macd,
  rsi,
  sma,
  stochastic,
  zscore,
} from "../../../actors/indicators/mod.ts";
import { brentBars, randomBars } from "./_series.ts";

const test = suite("indicators");

const brent = brentBars(); // real closes, when ../shared is beside the checkout (it is in CI)
const SERIES: [string, BarColumns][] = [
  ["random walk, seed 1", randomBars(500, 1)],
  ["random walk at 50,000, seed 2", randomBars(500, 2, 50_000)],
  ["random walk at 0.01, seed 3", randomBars(300, 3, 0.01)],
  ...(brent ? [["Brent spot closes", brent] as [string, BarColumns]] : []),
];

/** Equal to 1e-9 relative, or 1e-9 absolute below magnitude 1 (oscillators that pass through 0). */
function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * Asserts that `ours` is NaN exactly before `warmup` values and equals `oracle(i)` from there on,
 * where the oracle has a value; counts the values compared so that a test that compares nothing fails.
 */
function agree(
  what: string,
  ours: Float64Array,
  warmup: number,
  oracle: (i: number) => number | null | undefined,
): number {
  let compared = 0;
  for (let i = 0; i < ours.length; i++) {
    const theirs = oracle(i);
    if (i < warmup) {
      assert.ok(Number.isNaN(ours[i]), `${what}: value at ${i} before the warm-up of ${warmup}`);
      continue;
    }
    assert.ok(theirs !== null && theirs !== undefined, `${what}: the oracle has no value at ${i}`);
    assert.ok(close(ours[i]!, theirs), `${what} at ${i}: ${ours[i]} vs trading-signals ${theirs}`);
    compared++;
  }
  assert.ok(compared > 0 || ours.length < warmup, `${what}: nothing compared`);
  return compared;
}

/** Feeds each value to `update` and keeps each result. */
function run<T>(n: number, update: (i: number) => T | null): (T | null)[] {
  return Array.from({ length: n }, (_, i) => update(i));
}

function candle(bars: BarColumns, i: number) {
  return { open: bars.open[i]!, high: bars.high[i]!, low: bars.low[i]!, close: bars.close[i]! };
}

for (const [name, bars] of SERIES) {
  const n = bars.close.length;
  const c = bars.close;

  test(`sma and ema equal trading-signals' SMA and EMA (${name})`, () => {
    for (const period of [1, 2, 14, 50, 200]) {
      const s = new SMA(period), e = new EMA(period);
      const smaRef = run(n, (i) => s.update(c[i]!, false));
      const emaRef = run(n, (i) => {
        const v = e.update(c[i]!, false);
        return e.isStable ? v : null;
      });
      agree(`sma(${period})`, sma(c, { period }), period - 1, (i) => smaRef[i]);
      agree(`ema(${period})`, ema(c, { period }), period - 1, (i) => emaRef[i]);
    }
  });

  test(`rsi equals trading-signals' RSI with Wilder smoothing (${name})`, () => {
    for (const period of [2, 14, 30]) {
      const r = new RSI(period);
      const ref = run(n, (i) => r.update(c[i]!, false));
      agree(`rsi(${period})`, rsi(c, { period }), period, (i) => ref[i]);
    }
  });

  test(`macd line, signal and histogram equal trading-signals' MACD (${name})`, () => {
    for (const [fast, slow, signal] of [[12, 26, 9], [5, 35, 5], [3, 10, 16]] as const) {
      const m = new MACD(new EMA(fast), new EMA(slow), new EMA(signal));
      const ref = run(n, (i) => m.update(c[i]!, false));
      const ours = macd(c, { fast, slow, signal });
      const what = `macd(${fast},${slow},${signal})`;
      agree(`${what}.line`, ours.line, slow - 1, (i) => ref[i]?.macd);
      agree(`${what}.signal`, ours.signal, slow + signal - 2, (i) => ref[i]?.signal);
      agree(`${what}.hist`, ours.hist, slow + signal - 2, (i) => ref[i]?.histogram);
    }
  });

  test(`bollinger bands, %B and bandwidth equal trading-signals' BollingerBands and PercentB (${name})`, () => {
    for (const [period, stddevs] of [[20, 2], [5, 1.5], [100, 3]] as const) {
      const bb = new BollingerBands(period, stddevs);
      const pb = new PercentB({ interval: period, deviationMultiplier: stddevs });
      const ref = run(n, (i) => bb.update(c[i]!, false));
      const pbRef = run(n, (i) => pb.update(c[i]!, false));
      const ours = bollinger(c, { period, stddevs });
      const what = `bollinger(${period},${stddevs})`;
      agree(`${what}.upper`, ours.upper, period - 1, (i) => ref[i]?.upper);
      agree(`${what}.middle`, ours.middle, period - 1, (i) => ref[i]?.middle);
      agree(`${what}.lower`, ours.lower, period - 1, (i) => ref[i]?.lower);
      agree(`${what}.pct_b`, ours.pctB, period - 1, (i) => pbRef[i]);
      agree(`${what}.bandwidth`, ours.bandwidth, period - 1, (i) => {
        const r = ref[i];
        return r ? (r.upper - r.lower) / r.middle : null;
      });
    }
  });

  test(`atr equals trading-signals' ATR with Wilder smoothing (${name})`, () => {
    for (const period of [1, 14, 50]) {
      const a = new ATR(period);
      const ref = run(n, (i) => a.update(candle(bars, i), false));
      agree(`atr(${period})`, atr(bars, { period }), period - 1, (i) => ref[i]);
    }
  });

  test(`stochastic %K and %D equal trading-signals' StochasticOscillator (${name})`, () => {
    for (const [k, smooth, d] of [[14, 3, 3], [5, 1, 3], [20, 5, 7]] as const) {
      const s = new StochasticOscillator({ kPeriod: k, kSlowingPeriod: smooth, dPeriod: d });
      const ref = run(n, (i) => s.update(candle(bars, i), false));
      const ours = stochastic(bars, { k, smooth, d });
      const what = `stochastic(${k},${smooth},${d})`;
      // trading-signals gives both only once %D has a value; %K is checked from there as well.
      const dFrom = k + smooth + d - 3;
      agree(`${what}.d`, ours.d, dFrom, (i) => ref[i]?.stochD);
      agree(`${what}.k`, ours.k.subarray(dFrom), 0, (i) => ref[i + dFrom]?.stochK);
      assert.ok(Number.isNaN(ours.k[k + smooth - 3]!), `${what}.k before its warm-up`);
      assert.ok(!Number.isNaN(ours.k[k + smooth - 2]!), `${what}.k at its warm-up`);
    }
  });

  test(`zscore, n-bar return and highest/lowest equal trading-signals' getZScore, ROC and DonchianChannels (${name})`, () => {
    const v = bars.volume;
    for (const period of [1, 2, 20, 60]) {
      if (period > 1) {
        agree(
          `zscore(${period})`,
          zscore(v, { period }),
          period - 1,
          (i) => i < period - 1 ? null : getZScore(Array.from(v.subarray(i - period + 1, i + 1))),
        );
      }
      const roc = new ROC(period);
      const rocRef = run(n, (i) => roc.update(c[i]!, false));
      agree(`return(${period})`, barReturn(c, { period }), period, (i) => rocRef[i]);
      const dc = new DonchianChannels(period);
      const dcRef = run(n, (i) => dc.update(candle(bars, i), false));
      agree(
        `highest(${period})`,
        highest(bars.high, { period }),
        period - 1,
        (i) => dcRef[i]?.upper,
      );
      agree(`lowest(${period})`, lowest(bars.low, { period }), period - 1, (i) => dcRef[i]?.lower);
    }
  });

  test(`crosses_above and crosses_below equal trading-signals' hasCrossedOver/Under (${name})`, () => {
    const a = sma(c, { period: 5 }), b = sma(c, { period: 20 });
    const above = crossesAboveSeries({ a, b }), below = crossesBelowSeries({ a, b });
    let crossings = 0;
    for (let i = 20; i < n; i++) {
      const up = hasCrossedOver(a[i - 1]!, b[i - 1]!, a[i]!, b[i]!);
      const down = hasCrossedUnder(a[i - 1]!, b[i - 1]!, a[i]!, b[i]!);
      assert.is(above[i], up ? 1 : 0, `crosses_above at ${i}`);
      assert.is(below[i], down ? 1 : 0, `crosses_below at ${i}`);
      crossings += (up ? 1 : 0) + (down ? 1 : 0);
    }
    assert.ok(crossings > 2, `only ${crossings} crossings: the test shows little`);
    assert.ok(Number.isNaN(above[19]!), "a crossing where sma(20) has no value yet");
  });
}

test("rsi(14) reproduces Wilder's worked example as exact arithmetic gives it", () => {
  // The closes of the RSI example on StockCharts' ChartSchool (after Wilder 1978). Its published
  // spreadsheet rounds the averages to two decimals at each step (first RSI 70.53); unrounded
  // arithmetic, as in Wilder's definition, gives these.
  const closes = new Float64Array([
    44.34,
    44.09,
    44.15,
    43.61,
    44.33,
    44.83,
    45.10,
    45.42,
    45.84,
    46.08,
    45.89,
    46.03,
    45.61,
    46.28,
    46.28,
    46.00,
    46.03,
    46.41,
    46.22,
    45.64,
    46.21,
    46.25,
    45.71,
    46.45,
    45.78,
    45.35,
    44.03,
    44.18,
    44.22,
    44.57,
    43.42,
    42.66,
    43.13,
  ]);
  const expected = [
    70.46,
    66.25,
    66.48,
    69.35,
    66.29,
    57.92,
    62.88,
    63.21,
    56.01,
    62.34,
    54.67,
    50.39,
    40.02,
    41.49,
    41.90,
    45.50,
    37.32,
    33.09,
    37.79,
  ];
  const out = rsi(closes, { period: 14 });
  assert.ok(Number.isNaN(out[13]!));
  assert.equal(Array.from(out.subarray(14), (x) => Math.round(x * 100) / 100), expected);
  // The first value by hand: the first 14 changes gain 3.34 and lose 1.40 in all.
  assert.ok(Math.abs(out[14]! - (100 - 100 / (1 + 3.34 / 1.40))) < 1e-9, `${out[14]}`);
});

test("indicators on a flat stretch: no spread gives %B 0.5, z-score 0, stochastic 0, rsi 100", () => {
  const flat = new Float64Array(40).fill(7);
  assert.is(bollinger(flat, { period: 20 }).pctB[39], 0.5);
  assert.is(bollinger(flat, { period: 20 }).bandwidth[39], 0);
  assert.is(zscore(flat, { period: 20 })[39], 0);
  assert.is(rsi(flat, { period: 14 })[39], 100);
  const st = stochastic({ high: flat, low: flat, close: flat }, { k: 14, smooth: 3, d: 3 });
  assert.is(st.k[39], 0);
  assert.is(st.d[39], 0);
});

test("indicators give NaN throughout on fewer bars than their warm-up", () => {
  const short = new Float64Array([1, 2, 3]);
  for (
    const out of [sma(short, { period: 4 }), ema(short, { period: 4 }), rsi(short, { period: 3 })]
  ) {
    assert.ok(out.every(Number.isNaN));
  }
  const m = macd(short, { fast: 2, slow: 5, signal: 2 });
  assert.ok(
    m.line.every(Number.isNaN) && m.signal.every(Number.isNaN) && m.hist.every(Number.isNaN),
  );
  assert.ok(macd(new Float64Array(0), { fast: 2, slow: 5, signal: 2 }).hist.length === 0);
});

test("a period that is not a positive integer is an error naming the indicator, parameter and value", () => {
  const c = new Float64Array(10);
  assert.throws(
    () => sma(c, { period: 0 }),
    /Cannot compute sma: period must be an integer >= 1, got 0/,
  );
  assert.throws(() => rsi(c, { period: 2.5 }), /rsi: period must be an integer >= 1, got 2.5/);
  assert.throws(
    () => macd(c, { fast: 12, slow: Number.NaN, signal: 9 }),
    /macd: slow must be an integer >= 1, got NaN/,
  );
  assert.throws(
    () => sma(c, { period: 3, out: new Float64Array(9) }),
    /must hold 10 values, got 9/,
  );
  assert.throws(
    () => atr({ high: c, low: c, close: new Float64Array(9) }, { period: 3 }),
    /atr: the input columns differ in length \(10 and 9\)/,
  );
});

test("outputs are written into the arrays given, so that a scan reuses its buffers", () => {
  const c = randomBars(100, 9).close;
  const out = new Float64Array(100);
  assert.is(sma(c, { period: 10, out }), out);
  const line = new Float64Array(100),
    signalOut = new Float64Array(100),
    hist = new Float64Array(100);
  const m = macd(c, { fast: 12, slow: 26, signal: 9, line, signalOut, hist });
  assert.ok(m.line === line && m.signal === signalOut && m.hist === hist);
  assert.equal(Array.from(hist), Array.from(macd(c, { fast: 12, slow: 26, signal: 9 }).hist));
});

test("from: windowed indicators computed from an index on equal the full series there, NaN before", () => {
  const b = randomBars(300, 11);
  for (const from of [0, 1, 19, 150, 299, 300]) {
    const pairs: [string, Float64Array, Float64Array][] = [
      ["sma", sma(b.close, { period: 20, from }), sma(b.close, { period: 20 })],
      ["zscore", zscore(b.volume, { period: 20, from }), zscore(b.volume, { period: 20 })],
      ["return", barReturn(b.close, { period: 5, from }), barReturn(b.close, { period: 5 })],
      ["highest", highest(b.high, { period: 30, from }), highest(b.high, { period: 30 })],
      ["lowest", lowest(b.low, { period: 30, from }), lowest(b.low, { period: 30 })],
      [
        "bollinger",
        bollinger(b.close, { period: 20, from }).pctB,
        bollinger(b.close, { period: 20 }).pctB,
      ],
    ];
    for (const [name, part, full] of pairs) {
      for (let i = 0; i < 300; i++) {
        if (i < from) assert.ok(Number.isNaN(part[i]!), `${name} from ${from}: value at ${i}`);
        else if (Number.isNaN(full[i]!)) assert.ok(Number.isNaN(part[i]!), `${name} at ${i}`);
        else {assert.ok(
            close(part[i]!, full[i]!),
            `${name} from ${from} at ${i}: ${part[i]} vs ${full[i]}`,
          );}
      }
    }
  }
});

test.run();
