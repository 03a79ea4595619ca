/**
 * `troupe bench sim_seeds`: many seeds of `troupe sim --faults all`, spread over simulated
 * durations (by default 1,700 seeds of 10 s, 250 of 60 s and 50 of 300 s: 2,000 seeds), counting
 * the seeds that pass and naming each that fails with the command that reproduces it. Longer runs
 * find what short ones cannot (an instance failing while its partition recovers, at 60 s; an
 * input applied twice after one, at 300 s), and cost more: a 300 s seed takes minutes of wall
 * clock on two shared cores. `--known` runs instead the seeds that once failed, each at the
 * duration that showed it. Not a timed figure and not in CI: the rows are counts, with no
 * baseline (the bar: 0 failed).
 */
import { parseFaults, simulateOnThread } from "../sim/mod.ts";
import { type Benchmark, type BenchRow, row } from "./_bench.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";

const NAME = "sim_seeds";

/** Seeds that failed once, at the duration that showed it (simulated s). */
const KNOWN: ReadonlyArray<{ seed: number; durationS: number }> = [
  { seed: 1070, durationS: 10 },
  { seed: 233, durationS: 60 },
  { seed: 718, durationS: 60 },
  { seed: 783, durationS: 60 },
  { seed: 807, durationS: 60 },
  { seed: 827, durationS: 60 },
  { seed: 845, durationS: 60 },
  { seed: 851, durationS: 300 },
  { seed: 852, durationS: 300 },
  { seed: 853, durationS: 300 },
  { seed: 35017, durationS: 300 },
];

/** Durations and seed counts at most (a list longer than this is a typo). */
const DURATIONS_MAX = 16;

const OPTIONS = {
  durations: {
    help: "simulated seconds of each group, comma-separated",
    arg: "LIST",
    default: "10,60,300",
  },
  seeds: {
    help: "seeds of each group, comma-separated, one count per duration",
    arg: "LIST",
    default: "1700,250,50",
  },
  from: {
    help: "first seed of each group",
    arg: "S",
    default: 1,
    number: { min: 1, max: 2 ** 32 - 1, integer: true },
  },
  known: { help: "run the seeds that once failed instead", flag: true },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "troupe sim --faults all over many seeds spread over 10, 60 and 300 simulated s: seeds " +
    "passed and failed (bar: 0 failed; no baseline; minutes to hours)",
  options: OPTIONS,
  async run(args, ctx): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    const runs = o.known ? KNOWN : groups(o.durations, o.seeds, o.from);
    const faults = parseFaults("all");
    const byDuration = new Map<number, { passed: number; failed: number }>();
    const t0 = performance.now();
    for (const [i, { seed, durationS }] of runs.entries()) {
      let tally = byDuration.get(durationS);
      if (!tally) byDuration.set(durationS, tally = { passed: 0, failed: 0 });
      const r = await simulateOnThread({ seed, faults, durationS, keepTrace: false });
      if (r.ok) tally.passed++;
      else {
        tally.failed++;
        const v = r.violations[0]!;
        ctx.log(`${NAME}: seed ${seed} FAILED: ${v.invariant}: ${v.message} (${r.command})`);
      }
      ctx.log(
        `${NAME}: ${i + 1}/${runs.length} seed ${seed} at ${durationS} s ${
          r.ok ? "ok" : "FAILED"
        } in ${(r.realMs / 1000).toFixed(1)} s (${
          ((performance.now() - t0) / 1000).toFixed(0)
        } s so far)`,
      );
    }
    const rows: BenchRow[] = [];
    for (const [durationS, { passed, failed }] of [...byDuration].sort((a, b) => a[0] - b[0])) {
      ctx.log(`${NAME}: ${durationS} s: ${passed} passed, ${failed} failed`);
      const fig = (metric: string, troupe: number, better: "higher" | "lower") =>
        row({ bench: NAME, metric, unit: "seeds", troupe, baseline: null, better });
      rows.push(
        fig(`passed_${durationS}s`, passed, "higher"),
        fig(`failed_${durationS}s`, failed, "lower"),
      );
    }
    return rows;
  },
};

/** The seeds to run: `counts[i]` seeds from `from` at `durations[i]` simulated s. */
function groups(
  durations: string,
  counts: string,
  from: number,
): Array<{ seed: number; durationS: number }> {
  const ds = list("durations", durations, { max: 3600, integer: false });
  const ns = list("seeds", counts, { max: 1_000_000, integer: true });
  if (ds.length !== ns.length) {
    throw new BenchOptionError(
      `Options --durations and --seeds must list as many values: got ${ds.length} and ${ns.length}`,
    );
  }
  const out: Array<{ seed: number; durationS: number }> = [];
  ds.forEach((durationS, i) => {
    for (let k = 0; k < ns[i]!; k++) out.push({ seed: from + k, durationS });
  });
  return out;
}

/** A comma list of numbers > 0 and at most `max` (whole ones where `integer`). */
function list(name: string, text: string, bound: { max: number; integer: boolean }): number[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length > DURATIONS_MAX) {
    throw new BenchOptionError(
      `Option --${name} lists ${parts.length} values, at most ${DURATIONS_MAX}`,
    );
  }
  return parts.map((p) => {
    const n = Number(p);
    if (
      p === "" || !Number.isFinite(n) || n <= 0 || n > bound.max ||
      (bound.integer && !Number.isInteger(n))
    ) {
      throw new BenchOptionError(
        `Option --${name}: "${p}" must be a ${
          bound.integer ? "whole " : ""
        }number > 0 and at most ${bound.max}`,
      );
    }
    return n;
  });
}
