/**
 * `troupe bench scan`. The part that needs no host:
 *
 * - `indicator_values_per_s`: troupe's indicators (actors/indicators/) against trading-signals'
 *   classes (its only implementation since v7: plain numbers, no big.js) computing the same seven
 *   indicators over the same bars: SMA(200), EMA(50), RSI(14), MACD(12,26,9), Bollinger(20, 2),
 *   ATR(14) and stochastic(14,3,3). A value is one indicator's output at one bar (MACD's three
 *   series at a bar count as one value, as its class returns them as one).
 * - `evaluator_symbols_per_s`: the compiled criteria of the scan benchmark (five indicators:
 *   `rsi(14) < 45 and close > sma(200) and macd(12,26,9).hist > 0 and bollinger(20,2).pct_b < 0.9
 *   and volume_z(20) > -1`, ranked by rsi(14)) against a bare loop that calls the same indicator
 *   functions into preallocated buffers, the windowed ones for the last bar only as the evaluator
 *   does, and tests the same condition by hand: what the language costs over hand-written code.
 *   The evaluator computes an indicator only where the criteria reads it (`and` stops at its
 *   first false operand), the baseline all five as the issue defines it; the log also gives both
 *   against a bare loop that short-circuits the same way.
 *
 * Then the host part (_scan_host.ts): the same bars held by a running host's bars actors, scanned
 * through the HTTP API and a WebSocket: `full_scan_ms`, `first_result_ms`, `symbols_per_s` against
 * the bare loop, `lost_or_repeated` over concurrent scans and `rss_growth_ratio`.
 *
 * Times are this process's CPU time; troupe and the baseline alternate, round after round, and the
 * figure is each side's median over the rounds (the range is logged).
 */
import { compileCriteria } from "../actors/criteria/mod.ts";
import {
  atr,
  type BarColumns,
  bollinger,
  ema,
  macd,
  rsi,
  sma,
  stochastic,
  zscore,
} from "../actors/indicators/mod.ts";
import { Prng } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { hostScanRows } from "./_scan_host.ts";
import { devPackage } from "./_dev_package.ts";
import { cpuMs } from "./_cpu_ms.ts";

const NAME = "scan";
/** The scan benchmark's criteria: five indicators. */
export const BENCH_CRITERIA = "rsi(14) < 45 and close > sma(200) and macd(12,26,9).hist > 0 " +
  "and bollinger(20,2).pct_b < 0.9 and volume_z(20) > -1";
export const BENCH_RANK = "rsi(14)";

/** `symbols` random-walk symbols of `bars` OHLCV bars each, from one seed. */
export function benchBars(symbols: number, bars: number, seed: number): BarColumns[] {
  const prng = new Prng(seed);
  const out: BarColumns[] = [];
  for (let s = 0; s < symbols; s++) {
    const col = () => new Float64Array(bars);
    const b: BarColumns = {
      t: col(),
      open: col(),
      high: col(),
      low: col(),
      close: col(),
      volume: col(),
    };
    let price = 20 + 200 * prng.next();
    const vol = 0.005 + 0.02 * prng.next();
    for (let i = 0; i < bars; i++) {
      const open = price;
      price *= Math.exp(vol * prng.normal());
      b.t[i] = i * 60e6;
      b.open[i] = open;
      b.high[i] = Math.max(open, price) * (1 + vol * 0.5 * prng.next());
      b.low[i] = Math.min(open, price) * (1 - vol * 0.5 * prng.next());
      b.close[i] = price;
      b.volume[i] = Math.round(1000 * Math.exp(prng.normal()));
    }
    out.push(b);
  }
  return out;
}

/** Buffers for troupe's seven indicators over `n` bars. */
function buffers(n: number) {
  const a = () => new Float64Array(n);
  return {
    sma: a(),
    ema: a(),
    rsi: a(),
    line: a(),
    signal: a(),
    hist: a(),
    up: a(),
    mid: a(),
    lo: a(),
    pb: a(),
    bw: a(),
    atr: a(),
    k: a(),
    d: a(),
    fast: a(),
  };
}

/** troupe's seven indicators over every symbol; returns a checksum so that nothing is elided. */
function troupeIndicators(all: BarColumns[], buf: ReturnType<typeof buffers>): number {
  let sum = 0;
  for (const b of all) {
    const c = b.close;
    sma(c, { period: 200, out: buf.sma });
    ema(c, { period: 50, out: buf.ema });
    rsi(c, { period: 14, out: buf.rsi });
    macd(c, {
      fast: 12,
      slow: 26,
      signal: 9,
      line: buf.line,
      signalOut: buf.signal,
      hist: buf.hist,
    });
    bollinger(c, {
      period: 20,
      stddevs: 2,
      upper: buf.up,
      middle: buf.mid,
      lower: buf.lo,
      pctB: buf.pb,
      bandwidth: buf.bw,
    });
    atr(b, { period: 14, out: buf.atr });
    stochastic(b, { k: 14, smooth: 3, d: 3, kOut: buf.k, dOut: buf.d, scratch: buf.fast });
    const last = c.length - 1;
    sum += buf.sma[last]! + buf.ema[last]! + buf.rsi[last]! + buf.hist[last]! + buf.mid[last]! +
      buf.atr[last]! + buf.d[last]!;
  }
  return sum;
}

type TradingSignals = typeof import("trading-signals");

/** trading-signals' seven classes over every symbol, one update per bar each. */
function theirIndicators(ts: TradingSignals, all: BarColumns[]): number {
  let sum = 0;
  for (const b of all) {
    const smaI = new ts.SMA(200), emaI = new ts.EMA(50), rsiI = new ts.RSI(14);
    const macdI = new ts.MACD(new ts.EMA(12), new ts.EMA(26), new ts.EMA(9));
    const bbI = new ts.BollingerBands(20, 2), atrI = new ts.ATR(14);
    const stI = new ts.StochasticOscillator({ kPeriod: 14, kSlowingPeriod: 3, dPeriod: 3 });
    const n = b.close.length;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const c = b.close[i]!;
      const candle = { open: b.open[i]!, high: b.high[i]!, low: b.low[i]!, close: c };
      const s = smaI.update(c, false), e = emaI.update(c, false), r = rsiI.update(c, false);
      const m = macdI.update(c, false), bb = bbI.update(c, false), a = atrI.update(candle, false);
      const st = stI.update(candle, false);
      if (i === n - 1) {
        last = (s ?? 0) + e + (r ?? 0) + (m?.histogram ?? 0) + (bb?.middle ?? 0) + (a ?? 0) +
          (st?.stochD ?? 0);
      }
    }
    sum += last;
  }
  return sum;
}

/** The bench criteria by the compiled evaluator: matches, so that nothing is elided. */
function evaluatorPass(all: BarColumns[], compiled: ReturnType<typeof compileCriteria>): number {
  let matches = 0;
  for (const b of all) if (compiled.evaluate(b).kind === "match") matches++;
  return matches;
}

/**
 * The same five indicators and condition in a bare loop over preallocated buffers: the issue's
 * baseline computes all five for every symbol; with `shortCircuit`, each is computed only once
 * the conditions before it hold, as the compiled criteria does (`and` stops at its first false
 * operand), which is what hand-written code that cared would do.
 */
function bareLoopPass(
  all: BarColumns[],
  buf: ReturnType<typeof buffers>,
  z: Float64Array,
  shortCircuit = false,
): number {
  let matches = 0;
  for (const b of all) {
    const c = b.close, i = c.length - 1;
    rsi(c, { period: 14, out: buf.rsi });
    if (shortCircuit && !(buf.rsi[i]! < 45)) continue;
    sma(c, { period: 200, out: buf.sma, from: i });
    if (shortCircuit && !(c[i]! > buf.sma[i]!)) continue;
    macd(c, {
      fast: 12,
      slow: 26,
      signal: 9,
      line: buf.line,
      signalOut: buf.signal,
      hist: buf.hist,
    });
    if (shortCircuit && !(buf.hist[i]! > 0)) continue;
    bollinger(c, {
      period: 20,
      stddevs: 2,
      upper: buf.up,
      middle: buf.mid,
      lower: buf.lo,
      pctB: buf.pb,
      bandwidth: buf.bw,
      from: i,
    });
    if (shortCircuit && !(buf.pb[i]! < 0.9)) continue;
    zscore(b.volume, { period: 20, out: z, from: i });
    if (
      buf.rsi[i]! < 45 && c[i]! > buf.sma[i]! && buf.hist[i]! > 0 && buf.pb[i]! < 0.9 && z[i]! > -1
    ) {
      matches++;
    }
  }
  return matches;
}

/** Alternates `a` and `b` for `rounds` rounds; returns each side's CPU ms per round. */
function alternate(rounds: number, a: () => number, b: () => number): [number[], number[]] {
  const ta: number[] = [], tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [f, into] of [[a, ta], [b, tb]] as const) {
      const t0 = cpuMs();
      f();
      into.push(cpuMs() - t0);
    }
  }
  return [ta, tb];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
};
const range = (xs: number[], scale: number) =>
  `${(scale / Math.max(...xs)).toExponential(3)}-${(scale / Math.min(...xs)).toExponential(3)}`;

const OPTIONS = {
  symbols: {
    help: "symbols for the criteria figures",
    default: 10_000,
    number: { min: 1, max: 100_000, integer: true },
  },
  "indicator-symbols": {
    help: "of them, for the indicator figures",
    default: 1000,
    number: { min: 1, integer: true },
  },
  bars: {
    help: "bars per symbol",
    default: 500,
    number: { min: 234, max: 100_000, integer: true },
  },
  rounds: {
    help: "alternated rounds per figure",
    default: 5,
    number: { min: 1, max: 100, integer: true },
  },
  seed: { help: "bars seed", arg: "S", default: 1, number: { integer: true } },
  "host-symbols": {
    help: "of them, held by a host and scanned through its API; 0: no host part",
    defaultText: "all",
    number: { min: 0, integer: true },
  },
  concurrent: {
    help: "concurrent scans of the host part",
    default: 100,
    number: { min: 1, max: 1000, integer: true },
  },
  live: {
    help: "a live market: every other host round after this fraction of the symbols got a new " +
      "bar (rows full_scan_live_ms, first_result_live_ms; 0: none)",
    arg: "F",
    default: 0,
    number: { min: 0, max: 1 },
  },
} satisfies OptionTable;

/** What a figure is timed with: the rounds and the scratch buffers. */
interface FigureOptions {
  rounds: number;
  buf: ReturnType<typeof buffers>;
}

/**
 * indicator_values_per_s: troupe's seven indicators over `some` against trading-signals', after
 * checking that both compute the same values, alternated round by round.
 */
function indicatorRow(
  some: BarColumns[],
  o: FigureOptions & { ts: TradingSignals },
  ctx: BenchContext,
): BenchRow {
  const { ts, rounds, buf } = o;
  const bars = some[0]?.close.length ?? 0;
  // The same values both ways, before timing anything.
  const ours = troupeIndicators(some.slice(0, 20), buf),
    theirs = theirIndicators(ts, some.slice(0, 20));
  if (!(Math.abs(ours - theirs) <= 1e-9 * Math.abs(theirs))) {
    throw new Error(
      `troupe's and trading-signals' indicators differ: checksum ${ours} vs ${theirs}`,
    );
  }
  const values = some.length * bars * 7;
  const [tOurs, tTheirs] = alternate(
    rounds,
    () => troupeIndicators(some, buf),
    () => theirIndicators(ts, some),
  );
  const oursPerS = values / (median(tOurs) / 1000),
    theirsPerS = values / (median(tTheirs) / 1000);
  ctx.log(
    `indicators: troupe ${range(tOurs, values * 1000)} values/s, trading-signals ` +
      `${range(tTheirs, values * 1000)} values/s over ${rounds} rounds; ratio of medians ` +
      `${(oursPerS / theirsPerS).toFixed(2)}`,
  );

  return row({
    bench: NAME,
    metric: "indicator_values_per_s",
    unit: "values/s",
    troupe: oursPerS,
    baseline: theirsPerS,
    better: "higher",
  });
}

/**
 * evaluator_symbols_per_s: the compiled criteria over `all` against a bare loop (after checking
 * that they match the same symbols); a short-circuiting bare loop is timed too, and logged.
 */
function evaluatorRow(
  all: BarColumns[],
  o: FigureOptions & { z: Float64Array },
  ctx: BenchContext,
): BenchRow {
  const { rounds, buf, z } = o;
  const compiled = compileCriteria(BENCH_CRITERIA, { rank: BENCH_RANK });
  const m1 = evaluatorPass(all, compiled), m2 = bareLoopPass(all, buf, z);
  if (m1 !== m2) throw new Error(`the evaluator matched ${m1} symbols, the bare loop ${m2}`);
  const m3 = bareLoopPass(all, buf, z, true);
  if (m3 !== m2) {
    throw new Error(`the short-circuit loop matched ${m3} symbols, the bare loop ${m2}`);
  }
  const [tEval, tBare] = alternate(
    rounds,
    () => evaluatorPass(all, compiled),
    () => bareLoopPass(all, buf, z),
  );
  const evalPerS = all.length / (median(tEval) / 1000),
    barePerS = all.length / (median(tBare) / 1000);
  ctx.log(
    `criteria (${m1} of ${all.length} match): evaluator ${
      range(tEval, all.length * 1000)
    } symbols/s, ` +
      `bare loop ${range(tBare, all.length * 1000)} symbols/s; ratio of medians ` +
      `${(evalPerS / barePerS).toFixed(2)}`,
  );
  // The evaluator computes an indicator only where the criteria reads it: against a bare loop
  // that stops at the first false condition too (logged; the row's baseline is the issue's).
  const [tEval2, tShort] = alternate(
    rounds,
    () => evaluatorPass(all, compiled),
    () => bareLoopPass(all, buf, z, true),
  );
  ctx.log(
    `criteria against a short-circuiting bare loop: evaluator ${
      range(tEval2, all.length * 1000)
    } symbols/s, loop ${range(tShort, all.length * 1000)} symbols/s; ratio of medians ` +
      `${(median(tShort) / median(tEval2)).toFixed(2)}`,
  );
  return row({
    bench: NAME,
    metric: "evaluator_symbols_per_s",
    unit: "symbols/s",
    troupe: evalPerS,
    baseline: barePerS,
    better: "higher",
  });
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "indicator values/s against trading-signals, and the compiled criteria's symbols/s " +
    "against a bare loop of the same five indicators; then scans of a running host's bars " +
    "through its API (full scan, first result, symbols/s, concurrent scans, RSS)",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    const { symbols, bars, rounds, seed, concurrent, live } = o;
    const indSymbols = Math.min(symbols, o["indicator-symbols"]);
    const hostSymbols = Math.min(symbols, o["host-symbols"] ?? symbols);
    const ts: TradingSignals = await devPackage(
      "trading-signals",
      () => import("trading-signals"),
      "bench scan (its baseline)",
    );
    ctx.log(`generating ${symbols} symbols x ${bars} bars (seed ${seed})`);
    const all = benchBars(symbols, bars, seed);
    const some = all.slice(0, indSymbols);
    const buf = buffers(bars), z = new Float64Array(bars);

    const indicators = indicatorRow(some, { ts, rounds, buf }, ctx);
    const evaluator = evaluatorRow(all, { rounds, buf, z }, ctx);
    const held = all.slice(0, hostSymbols);
    const hostRows = hostSymbols === 0 ? [] : await hostScanRows(held, {
      criteria: BENCH_CRITERIA,
      rank: BENCH_RANK,
      rounds,
      concurrent,
      bare: () => bareLoopPass(held, buf, z),
      bareShortCircuit: () => bareLoopPass(held, buf, z, true),
      live,
    }, ctx);
    return [
      indicators,
      evaluator,
      ...hostRows,
    ];
  },
};
