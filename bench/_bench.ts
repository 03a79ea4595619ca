/**
 * The benchmark contract. Each `bench/<name>.ts` exports `benchmark: Benchmark`; `troupe bench
 * <name>` loads it by name, runs it, and prints its rows as a table, or with `--json` as one JSON
 * array of rows. Every figure with a baseline is measured against that baseline in the same run:
 * these machines are shared, so only ratios taken side by side mean anything.
 */
import type { OptionTable } from "./_option_table.ts";

/** One figure of a benchmark run (DESIGN §9). `ratio` is troupe / baseline. */
export interface BenchRow {
  bench: string;
  metric: string;
  unit: string;
  troupe: number;
  baseline: number | null;
  ratio: number | null;
  better: "higher" | "lower";
  /** Which baseline, where a benchmark measures against several (one row per reference). */
  reference?: string;
}

/** What a benchmark may use while it runs. */
export interface BenchContext {
  /** Progress and notes for the human: written to stderr, never into the JSON. */
  log(message: string): void;
  /** True under `--json`. */
  json: boolean;
}

/**
 * A benchmark. `run` reads its options from `args` by its table (`readOptions(args, options)`), and
 * its help is that table's usage (`optionsUsage`): each default written once.
 */
export interface Benchmark {
  name: string;
  /** One line: what is measured, against what. */
  summary: string;
  /** Its options: help, default and bounds of each. */
  options: OptionTable;
  run(args: string[], context: BenchContext): Promise<BenchRow[]>;
}

/** A row's figures: everything but the ratio, which `row` computes. */
export type RowFigures = Omit<BenchRow, "ratio">;

/** Builds a row, computing the ratio (null without a baseline, or with a baseline of 0). */
export function row(figures: RowFigures): BenchRow {
  const { baseline, troupe } = figures;
  const ratio = baseline === null || baseline === 0 ? null : troupe / baseline;
  return { ...figures, ratio };
}

/** Formats rows as an aligned table. */
export function formatTable(rows: readonly BenchRow[]): string {
  const fmt = (x: number | null) =>
    x === null
      ? "-"
      : Math.abs(x) >= 1e5
      ? x.toExponential(3)
      : Math.abs(x) >= 100
      ? x.toFixed(0)
      : x.toPrecision(4);
  const header = ["bench", "metric", "unit", "troupe", "baseline", "ratio", "better"];
  const lines = rows.map((r) => [
    r.bench,
    r.metric,
    r.unit,
    fmt(r.troupe),
    fmt(r.baseline),
    r.ratio === null ? "-" : r.ratio.toFixed(3),
    r.better,
    ...(rows.some((x) => x.reference) ? [r.reference ?? "-"] : []),
  ]);
  if (rows.some((x) => x.reference)) header.push("baseline is");
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const pad = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [pad(header), pad(widths.map((w) => "-".repeat(w))), ...lines.map(pad)].join("\n");
}

/** High-resolution monotonic time in milliseconds. */
export function nowMs(): number {
  return performance.now();
}

/** The p-th percentile (0..100) of sorted values, by nearest rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
