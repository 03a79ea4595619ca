/**
 * `troupe bench coherence`: the coherence kernel's incremental update against a full symmetric
 * eigen-decomposition of the same covariance (ml-matrix's `EigenvalueDecomposition`, the
 * reference), for N = 100 channels (n = 20) and N = 500 (n = 100), and the largest relative error
 * of the absorption ratio over the run.
 *
 * The feed is a seeded factor model (a market factor that switches between calm and stressed
 * every `--regime-bars` bars, five sectors, idiosyncratic noise), one single-sample frame per
 * channel per bar, so each bar costs N frames and exactly one covariance update: the update time
 * is the kernel's whole cost of a bar. After `N + --warmup-bars` bars (the covariance is then of
 * full rank, the steady state), `--bars` bars are timed; every `--check-every`th of them the
 * kernel's covariance is decomposed in full by the reference, which gives both the baseline time
 * and the ratio's error. Times are this process's CPU time (`process.cpuUsage`), so that other
 * work on a shared machine does not stretch them; wall times are logged.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import {
  coherenceCounters,
  coherenceKernel,
  type CoherenceState,
  covarianceOf,
  parseCoherenceConfig,
  topCountOf,
} from "../actors/coherence/mod.ts";
import { Prng } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { cpuMs } from "./_cpu_ms.ts";

const NAME = "coherence";
const BAR_US = 60_000_000;
const T0 = Date.UTC(2024, 0, 2) * 1000;

/** Options of one case. */
interface CaseOptions {
  channels: number;
  top: number;
  bars: number;
  warmupBars: number;
  checkEvery: number;
  regimeBars: number;
  halfLifeBars: number;
  seed: number;
}

/** What one case measured. */
interface CaseResult {
  updateMs: number;
  updateWallMs: number;
  fullMs: number;
  fullWallMs: number;
  errorMax: number;
  checks: number;
  iterations: number;
}

function runCase(o: CaseOptions, ctx: BenchContext): CaseResult {
  const n = o.channels;
  const config = parseCoherenceConfig({
    bar_us: BAR_US,
    half_life_bars: o.halfLifeBars,
    top_n: o.top,
    lag_bars_max: 2,
    warmup_bars: 0,
  });
  const state = coherenceKernel.init(config, "all");
  const bar = marketBars(o, state);
  const warm = n + o.warmupBars;
  const w0 = nowMs();
  for (let b = 0; b < warm; b++) bar(b);
  ctx.log(`N=${n}: ${warm} warm-up bars in ${((nowMs() - w0) / 1000).toFixed(1)} s`);
  const iterations0 = coherenceCounters(state).iterations;
  let updateMs = 0;
  let updateWallMs = 0;
  let updates = 0;
  let fullMs = 0;
  let fullWallMs = 0;
  let checks = 0;
  let errorMax = 0;
  for (let k = 0; k < o.bars; k++) {
    const c0 = cpuMs();
    const t0 = nowMs();
    const steps = bar(warm + k);
    updateWallMs += nowMs() - t0;
    updateMs += cpuMs() - c0;
    if (steps !== 1) throw new Error(`Bar ${warm + k} closed ${steps} bars, expected 1`);
    updates++;
    if (k % o.checkEvery !== 0) continue;
    const check = referenceCheck(state);
    fullWallMs += check.wallMs;
    fullMs += check.cpuMs;
    checks++;
    if (check.error > errorMax) errorMax = check.error;
  }
  const iterations = (coherenceCounters(state).iterations - iterations0) / updates;
  return {
    updateMs: updateMs / updates,
    updateWallMs: updateWallMs / updates,
    fullMs: fullMs / checks,
    fullWallMs: fullWallMs / checks,
    errorMax,
    checks,
    iterations,
  };
}

/**
 * The case's market, one bar at a time: `n` channels, each a beta to one factor (calm or, every
 * other `regimeBars`, stressed), one of five sectors and its own noise, stepped through the
 * kernel's `state`. A bar returns how many bars the kernel closed.
 */
function marketBars(o: CaseOptions, state: CoherenceState): (b: number) => number {
  const n = o.channels;
  const prng = new Prng(o.seed);
  const beta = Array.from({ length: n }, () => 0.6 + 0.8 * prng.next());
  const sectorOf = Array.from({ length: n }, (_, i) => i % 5);
  const idio = Array.from({ length: n }, () => 0.004 + 0.008 * prng.next());
  const names = Array.from({ length: n }, (_, i) => `s${String(i).padStart(3, "0")}`);
  const prices = new Float64Array(n).fill(100);
  const sector = new Float64Array(5);
  const t = new Float64Array(1);
  const v = new Float64Array(1);
  const frame = { channel: "", seq0: 0, t, v };
  return (b: number) => {
    const stressed = Math.floor(b / o.regimeBars) % 2 === 1;
    const f = (stressed ? 0.02 : 0.004) * prng.normal();
    for (let s = 0; s < 5; s++) sector[s] = 0.003 * prng.normal();
    t[0] = T0 + b * BAR_US;
    let steps = 0;
    for (let i = 0; i < n; i++) {
      prices[i] = prices[i]! *
        Math.exp(beta[i]! * f + sector[sectorOf[i]!]! + idio[i]! * prng.normal());
      frame.channel = names[i]!;
      frame.seq0 = b;
      v[0] = prices[i]!;
      steps += coherenceKernel.step(state, frame).steps;
    }
    return steps;
  };
}

/**
 * The full eigendecomposition of the kernel's covariance, the reference its tracked top-subspace
 * ratio is held to: the ratio's relative error, and the decomposition's CPU and wall time.
 */
function referenceCheck(state: CoherenceState): { error: number; cpuMs: number; wallMs: number } {
  const { matrix } = covarianceOf(state);
  const m = state.m;
  const a = new Matrix(m, m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) a.set(i, j, matrix[i * m + j]!);
  }
  const r0 = cpuMs();
  const rw = nowMs();
  const eig = new EigenvalueDecomposition(a, { assumeSymmetric: true });
  const wallMs = nowMs() - rw;
  const cpu = cpuMs() - r0;
  const values = eig.realEigenvalues.slice().sort((x, y) => y - x);
  const top = topCountOf(state);
  let sum = 0;
  let all = 0;
  values.forEach((x, i) => {
    all += x;
    if (i < top) sum += x;
  });
  const reference = sum / all;
  return { error: Math.abs(state.ratio - reference) / reference, cpuMs: cpu, wallMs };
}

const OPTIONS = {
  bars: { help: "timed bars (updates) per size", default: 40, number: { min: 1, integer: true } },
  "warmup-bars": {
    help: "bars beyond N before timing, so the covariance has full rank",
    default: 40,
    number: { min: 0, integer: true },
  },
  "check-every": {
    help: "decompose in full every K-th timed bar at N=500 (N=100: every bar)",
    arg: "K",
    default: 4,
    number: { min: 1, integer: true },
  },
  "regime-bars": {
    help: "bars between calm/stressed switches of the market factor",
    default: 50,
    number: { min: 1, integer: true },
  },
  "half-life": { help: "covariance half-life in bars", default: 120, number: { min: 1 } },
  seed: { help: "feed seed", arg: "S", default: 1, number: { integer: true } },
} satisfies OptionTable;

/** The coherence benchmark. */
export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "coherence update time for N=100 and N=500 against a full symmetric eigen-decomposition " +
    "(ml-matrix), and the ratio's largest relative error",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    const common = {
      bars: o.bars,
      warmupBars: o["warmup-bars"],
      regimeBars: o["regime-bars"],
      halfLifeBars: o["half-life"],
      seed: o.seed,
    };
    const checkEvery = o["check-every"];
    const rows: BenchRow[] = [];
    let errorMax = 0;
    for (const [channels, top] of [[100, 20], [500, 100]] as const) {
      const r = runCase(
        { ...common, channels, top, checkEvery: channels === 100 ? 1 : checkEvery },
        ctx,
      );
      ctx.log(
        `N=${channels} n=${top}: update ${r.updateMs.toFixed(2)} ms CPU ` +
          `(${r.updateWallMs.toFixed(2)} wall, ${r.iterations.toFixed(2)} block iterations), ` +
          `full decomposition ${r.fullMs.toFixed(1)} ms CPU (${r.fullWallMs.toFixed(1)} wall), ` +
          `ratio ${(r.updateMs / r.fullMs).toFixed(3)}; ` +
          `max relative error ${r.errorMax.toExponential(2)} over ${r.checks} checks`,
      );
      rows.push(
        row({
          bench: NAME,
          metric: `update_ms_n${channels}`,
          unit: "ms",
          troupe: r.updateMs,
          baseline: r.fullMs,
          better: "lower",
        }),
      );
      errorMax = Math.max(errorMax, r.errorMax);
    }
    rows.push(
      row({
        bench: NAME,
        metric: "relative_error_max",
        unit: "ratio",
        troupe: errorMax,
        baseline: null,
        better: "lower",
      }),
    );
    return Promise.resolve(rows);
  },
};
