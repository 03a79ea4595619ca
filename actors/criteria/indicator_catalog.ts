/**
 * The indicators the criteria language knows: for each, its parameters (with defaults and bounds),
 * the column it reads by default, the values it gives (`macd(…).hist`), how many bars each value
 * needs, and how to compute it into a scan's buffers. The checker reads this table to reject an
 * unknown name or a wrong arity before any work; the compiler reads it to compute.
 */
import {
  atr,
  type BarColumns,
  type BarField,
  barReturn,
  bollinger,
  ema,
  highest,
  lowest,
  macd,
  rsi,
  sma,
  stochastic,
  zscore,
} from "../indicators/mod.ts";

/** A numeric parameter of an indicator. */
export interface ParamSpec {
  name: string;
  /** Used when the call leaves the parameter out (only trailing parameters may be left out). */
  default?: number;
  min: number;
  /** Largest value (bars an indicator looks back are bounded by the history a host keeps). */
  max: number;
  integer: boolean;
}

/** An indicator the criteria language can call. */
export interface IndicatorSpec {
  name: string;
  /** One line for the catalog a user reads. */
  description: string;
  params: ParamSpec[];
  /** The column read when the call names none; null for indicators that read whole bars. */
  source: BarField | null;
  /** The values it gives; one value needs no `.name`. */
  outputs: string[];
  /** Bars needed before output `output` (an index into outputs) has a value. */
  warmup(params: readonly number[], output: number): number;
  /**
   * Computes every output into `outs` (one buffer per output, each `bars.close.length` long), at
   * least from index `from` on: windowed indicators skip what comes before, recursive ones cannot.
   */
  compute(
    bars: BarColumns,
    src: Float64Array,
    params: readonly number[],
    outs: Float64Array[],
    from: number,
  ): void;
}

const PERIOD_MAX = 10_000;
const period = (name: string, def?: number): ParamSpec => ({
  name,
  ...(def === undefined ? {} : { default: def }),
  min: 1,
  max: PERIOD_MAX,
  integer: true,
});

const p = (params: readonly number[], i: number) => params[i]!;
const o = (outs: Float64Array[], i: number) => outs[i]!;

const SPECS: IndicatorSpec[] = [
  {
    name: "sma",
    description: "simple moving average of close (or the column named first) over n bars",
    params: [period("n")],
    source: "close",
    outputs: ["value"],
    warmup: (a) => p(a, 0),
    compute: (_, src, a, outs, from) => sma(src, { period: p(a, 0), out: o(outs, 0), from }),
  },
  {
    name: "ema",
    description: "exponential moving average, weight 2/(n+1), seeded with the first value",
    params: [period("n")],
    source: "close",
    outputs: ["value"],
    warmup: (a) => p(a, 0),
    compute: (_, src, a, outs) => ema(src, { period: p(a, 0), out: o(outs, 0) }),
  },
  {
    name: "rsi",
    description: "Wilder's relative strength index over n bars, 0-100",
    params: [period("n", 14)],
    source: "close",
    outputs: ["value"],
    warmup: (a) => p(a, 0) + 1,
    compute: (_, src, a, outs) => rsi(src, { period: p(a, 0), out: o(outs, 0) }),
  },
  {
    name: "macd",
    description: "MACD: .line (EMA fast − EMA slow), .signal (its EMA), .hist (line − signal)",
    params: [period("fast", 12), period("slow", 26), period("signal", 9)],
    source: "close",
    outputs: ["line", "signal", "hist"],
    warmup: (a, out) => out === 0 ? p(a, 1) : p(a, 1) + p(a, 2) - 1,
    compute: (_, src, a, outs) =>
      void macd(src, {
        fast: p(a, 0),
        slow: p(a, 1),
        signal: p(a, 2),
        line: o(outs, 0),
        signalOut: o(outs, 1),
        hist: o(outs, 2),
      }),
  },
  {
    name: "bollinger",
    description:
      "Bollinger bands over n bars, k deviations: .upper .middle .lower .pct_b .bandwidth",
    params: [period("n", 20), { name: "k", default: 2, min: 0, max: 100, integer: false }],
    source: "close",
    outputs: ["upper", "middle", "lower", "pct_b", "bandwidth"],
    warmup: (a) => p(a, 0),
    compute: (_, src, a, outs, from) =>
      void bollinger(src, {
        from,
        period: p(a, 0),
        stddevs: p(a, 1),
        upper: o(outs, 0),
        middle: o(outs, 1),
        lower: o(outs, 2),
        pctB: o(outs, 3),
        bandwidth: o(outs, 4),
      }),
  },
  {
    name: "atr",
    description: "Wilder's average true range over n bars",
    params: [period("n", 14)],
    source: null,
    outputs: ["value"],
    warmup: (a) => p(a, 0),
    compute: (bars, _, a, outs) => atr(bars, { period: p(a, 0), out: o(outs, 0) }),
  },
  {
    name: "stoch",
    description:
      "stochastic oscillator: .k (fast %K over k bars smoothed over s) and .d (%K over d)",
    params: [period("k", 14), period("s", 3), period("d", 3)],
    source: null,
    outputs: ["k", "d", "_fast"],
    warmup: (a, out) => out === 0 ? p(a, 0) + p(a, 1) - 1 : p(a, 0) + p(a, 1) + p(a, 2) - 2,
    compute: (bars, _, a, outs) =>
      void stochastic(bars, {
        k: p(a, 0),
        smooth: p(a, 1),
        d: p(a, 2),
        kOut: o(outs, 0),
        dOut: o(outs, 1),
        scratch: o(outs, 2),
      }),
  },
  {
    name: "volume_z",
    description: "z-score of volume (or the column named first) against its last n bars",
    params: [period("n", 20)],
    source: "volume",
    outputs: ["value"],
    warmup: (a) => p(a, 0),
    compute: (_, src, a, outs, from) => zscore(src, { period: p(a, 0), out: o(outs, 0), from }),
  },
  {
    name: "return",
    description: "n-bar return of close as a fraction: close / close n bars ago − 1",
    params: [period("n", 1)],
    source: "close",
    outputs: ["value"],
    warmup: (a) => p(a, 0) + 1,
    compute: (_, src, a, outs, from) => barReturn(src, { period: p(a, 0), out: o(outs, 0), from }),
  },
  {
    name: "highest",
    description: "highest high (or the column named first) over the last n bars, this one included",
    params: [period("n")],
    source: "high",
    outputs: ["value"],
    warmup: (a) => p(a, 0),
    compute: (_, src, a, outs, from) => highest(src, { period: p(a, 0), out: o(outs, 0), from }),
  },
  {
    name: "lowest",
    description: "lowest low (or the column named first) over the last n bars, this one included",
    params: [period("n")],
    source: "low",
    outputs: ["value"],
    warmup: (a) => p(a, 0),
    compute: (_, src, a, outs, from) => lowest(src, { period: p(a, 0), out: o(outs, 0), from }),
  },
];

/** The indicators, by name. */
export const INDICATORS: ReadonlyMap<string, IndicatorSpec> = new Map(
  SPECS.map((s) => [s.name, s]),
);

/** The outputs a user may name (private scratch outputs start with `_`). */
export function publicOutputs(spec: IndicatorSpec): string[] {
  return spec.outputs.filter((name) => !name.startsWith("_"));
}
