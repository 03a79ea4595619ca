/** What `bench latency` makes of its rounds: its rows, and the lines it logs as it goes. */
import type { StageFigures } from "../actors/runtime/mod.ts";
import { describeGaps, type LoopGapFigures } from "./_loop_gaps.ts";
import { type BenchContext, type BenchRow, percentile, row } from "./_bench.ts";
import type { PhaseResult } from "./_latency_injector.ts";
import { median } from "./_median.ts";

const NAME = "latency";

/** The row of percentile `p` of the troupe phases against the raw ones. */
export function latencyRow(p: number, suffix: string, troupe: PhaseResult[], raw: PhaseResult[]) {
  return row({
    bench: NAME,
    metric: `latency_us_p${String(p).replace(".", "")}${suffix}`,
    unit: "µs",
    troupe: median(troupe.map((t) => percentile(t.latenciesUs, p))),
    baseline: median(raw.map((t) => percentile(t.latenciesUs, p))),
    better: "lower",
  });
}

/**
 * The median over rounds of each round's p99 ratio (troupe's phase against raw's of the same
 * round), beside `latency_us_p99`, whose ratio is of the medians and can take its two from
 * different rounds. A round's two phases meet the same machine more alike than two rounds do, so
 * this one swings less from run to run; the bar's row is
 * `latency_us_p99`.
 */
export function roundRatioRow(byRound: number[]): BenchRow {
  return row({
    bench: NAME,
    metric: "latency_us_p99_ratio_by_round",
    unit: "ratio",
    troupe: median(byRound),
    baseline: null,
    better: "lower",
  });
}

/**
 * The receiving thread's CPU a measured frame (the host's main thread against raw nats.js's
 * subscriber) and the host's whole process's (its collector's and I/O threads too), the medians
 * over rounds; none where the scheduler's counts are not available.
 */
export function cpuRows(troupe: PhaseResult[], raw: PhaseResult[]): BenchRow[] {
  const known = (xs: (number | undefined)[]) =>
    xs.every((x) => x !== undefined) ? median(xs as number[]) : undefined;
  const thread = known(troupe.map((t) => t.threadCpuUs));
  const rawThread = known(raw.map((t) => t.threadCpuUs));
  const proc = known(troupe.map((t) => t.processCpuUs));
  const rows: BenchRow[] = [];
  const metric = (name: string, troupe: number, baseline: number | null) =>
    row({ bench: NAME, metric: name, unit: "µs", troupe, baseline, better: "lower" });
  if (thread !== undefined) rows.push(metric("cpu_us_per_frame", thread, rawThread ?? null));
  if (proc !== undefined) rows.push(metric("cpu_us_per_frame_process", proc, null));
  return rows;
}

export function reportGaps(
  ctx: BenchContext,
  what: string,
  gaps: LoopGapFigures | undefined,
): void {
  if (gaps) ctx.log(`${NAME}: the host's event loop, ${what}: ${describeGaps(gaps)}`);
}

/** Each stage's p50 and p99, the median over rounds, as rows without a baseline. */
export function stageRows(rounds: StageFigures[][]): BenchRow[] {
  if (rounds.length === 0) return [];
  return rounds[0]!.flatMap((f, i) =>
    (["p50", "p99"] as const).map((q) =>
      row({
        bench: NAME,
        metric: `stage_${f.stage}_us_${q}`,
        unit: "µs",
        troupe: median(rounds.map((r) => r[i]![`${q}_us`])),
        baseline: null,
        better: "lower",
      })
    )
  );
}

export function reportStages(
  ctx: BenchContext,
  what: string,
  frames: number,
  f: StageFigures[],
): void {
  const cells = f.map((s) => `${s.stage} ${s.p50_us.toFixed(1)}/${s.p99_us.toFixed(1)}`);
  ctx.log(`${NAME}: stages (p50/p99 µs), ${what}, ${frames} frames: ${cells.join(", ")}`);
}

export function report(ctx: BenchContext, what: string, r: PhaseResult): void {
  const p = (q: number) => percentile(r.latenciesUs, q).toFixed(0);
  ctx.log(
    `${NAME}: ${what}: ${r.latenciesUs.length} frames at ${r.sentPerS.toFixed(0)}/s, p50 ${
      p(50)
    } µs, p99 ${p(99)} µs, p99.9 ${p(99.9)} µs, max ${p(100)} µs${
      r.lost ? `, ${r.lost} without an answer` : ""
    }; CPU a frame: the receiving thread ${cpuUs(r.threadCpuUs)}${
      r.processCpuUs === undefined ? "" : `, the process ${cpuUs(r.processCpuUs)}`
    }`,
  );
}

function cpuUs(us: number | undefined): string {
  return us === undefined ? "?" : `${us.toFixed(1)} µs`;
}
