/**
 * The summary of a run of seeds (simulate_seeds.ts): how many passed and failed, the crashes and
 * lease faults of them all summed, and each failure with the command that reproduces it. `troupe
 * sim --json` prints it; the command's text summary is made from the same outcomes.
 */
import { resolve, type SimOptions } from "./_sim_options.ts";
import type { SimStats } from "./simulator.ts";
import { type SeedOutcome, seedPassed } from "./simulate_seeds.ts";

/** The crashes and lease faults of a run, or of many summed. */
export type SimLeaseTotals = Pick<
  SimStats,
  "crashes" | "pauses" | "cuts" | "takeovers" | "fencedWrites"
>;

/** Options of simSummary: how the seeds ran. */
export interface SimSummaryOptions {
  /** The options every seed ran with. */
  base: Omit<SimOptions, "seed">;
  /** Whether each seed ran twice: its reproducing command then says so. */
  checkDeterminism: boolean;
  /** Real seconds all the seeds took. */
  elapsedS: number;
}

/** The crashes and lease faults of every seed, summed. */
export function leaseTotals(outcomes: readonly SeedOutcome[]): SimLeaseTotals {
  const sum: SimLeaseTotals = { crashes: 0, pauses: 0, cuts: 0, takeovers: 0, fencedWrites: 0 };
  for (const { result: { stats } } of outcomes) {
    for (const k of Object.keys(sum) as (keyof SimLeaseTotals)[]) sum[k] += stats[k];
  }
  return sum;
}

/** The summary of `outcomes` (`troupe sim --json`); a single seed's result in full too. */
export function simSummary(outcomes: readonly SeedOutcome[], options: SimSummaryOptions) {
  const failures = outcomes.filter((x) => !seedPassed(x));
  const again = options.checkDeterminism ? " --check-determinism" : "";
  const brief = (x: SeedOutcome) => ({
    seed: x.result.seed,
    ok: seedPassed(x),
    violations: x.result.violations,
    nondeterministic: x.nondeterministic ?? null,
    command: x.result.command + again,
    traceHash: x.result.traceHash,
    virtualS: x.result.virtualS,
    realMs: x.result.realMs,
    onThread: x.result.onThread,
    stats: x.result.stats,
  });
  // The defaults filled in, as every seed ran with them.
  const base = resolve({ ...options.base, seed: 0 });
  return {
    faults: base.faults.name,
    durationS: base.durationS,
    hosts: base.hosts,
    seedsRun: outcomes.length,
    passed: outcomes.length - failures.length,
    failed: failures.length,
    elapsedS: options.elapsedS,
    totals: leaseTotals(outcomes),
    failures: failures.map(brief),
    ...(outcomes.length === 1 ? { result: brief(outcomes[0]!) } : {}),
  };
}
