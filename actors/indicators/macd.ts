/**
 * Moving average convergence/divergence (Appel): the line is EMA(fast) − EMA(slow) of the column,
 * the signal is the EMA(signal) of the line, the histogram is line − signal. Every EMA is seeded
 * with its first input ({@link ema}); the line is valid from `slow` values, the signal and
 * histogram from `slow + signal − 1`.
 */
import { checkPeriod, outputFor } from "./_check.ts";
import { ema } from "./ema.ts";

/** Options of {@link macd}. */
export interface MacdOptions {
  fast: number;
  slow: number;
  signal: number;
  /** Where to write each series (as long as the input); new arrays when absent. */
  line?: Float64Array;
  signalOut?: Float64Array;
  hist?: Float64Array;
}

/** The three MACD series. */
export interface MacdSeries {
  line: Float64Array;
  signal: Float64Array;
  hist: Float64Array;
}

/** Bars needed before the line's first value. */
export function macdLineWarmup(slow: number): number {
  return slow;
}

/** Bars needed before the signal's and histogram's first value. */
export function macdSignalWarmup(slow: number, signal: number): number {
  return slow + signal - 1;
}

/** The MACD line, signal and histogram of `src`, per value. */
export function macd(src: Float64Array, options: MacdOptions): MacdSeries {
  const { fast, slow, signal: signalPeriod } = options;
  checkPeriod("macd", "fast", fast);
  checkPeriod("macd", "slow", slow);
  checkPeriod("macd", "signal", signalPeriod);
  const n = src.length;
  const line = outputFor("macd", n, options.line);
  const signal = outputFor("macd", n, options.signalOut);
  const hist = outputFor("macd", n, options.hist);
  // Both EMAs run from the first value, in one pass.
  const kf = 2 / (fast + 1), ks = 2 / (slow + 1);
  let ef = src[0]!, es = src[0]!;
  for (let i = 0; i < n; i++) {
    const x = src[i]!;
    ef = x * kf + ef * (1 - kf);
    es = x * ks + es * (1 - ks);
    line[i] = i >= slow - 1 ? ef - es : NaN;
  }
  if (n < slow) {
    signal.fill(NaN);
    hist.fill(NaN);
    return { line, signal, hist };
  }
  ema(line, { period: signalPeriod, out: signal, from: slow - 1 });
  for (let i = 0; i < n; i++) hist[i] = line[i]! - signal[i]!;
  return { line, signal, hist };
}
