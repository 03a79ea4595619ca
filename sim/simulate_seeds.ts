/**
 * Many seeds of one simulation, one after another, each on the simulator's thread
 * (simulateOnThread), and with the determinism check each twice, its two traces compared: what
 * `troupe sim --seeds N --check-determinism` runs, for whoever runs seeds from code.
 */
import type { SimOptions, SimResult } from "./simulator.ts";
import { simulateOnThread } from "./simulator_thread.ts";
import { traceDivergence } from "./trace_divergence.ts";

/** What one seed gave, with the determinism check's verdict when asked for. */
export interface SeedOutcome {
  result: SimResult;
  /** Why the second run differed, when the determinism check found it did. */
  nondeterministic: string | undefined;
}

/** Options of simulateSeeds. */
export interface SimulateSeedsOptions {
  /** Run every seed twice and fail it when the two traces differ. Default false. */
  checkDeterminism?: boolean;
  /** Called as each seed ends, with its outcome and how many seeds have ended. */
  onSeed?: (outcome: SeedOutcome, done: number) => void;
}

/** Whether a seed passed: its invariants held and, when asked, it ran the same twice. */
export function seedPassed(o: SeedOutcome): boolean {
  return o.result.ok && o.nondeterministic === undefined;
}

/** Runs `base` with each of `seeds`, in order; the outcomes in the same order. */
export async function simulateSeeds(
  seeds: readonly number[],
  base: Omit<SimOptions, "seed">,
  options: SimulateSeedsOptions = {},
): Promise<SeedOutcome[]> {
  const outcomes: SeedOutcome[] = [];
  for (const seed of seeds) {
    const run: SimOptions = { ...base, seed };
    const result = await simulateOnThread(run);
    let nondeterministic: string | undefined;
    if (options.checkDeterminism) {
      const again = await simulateOnThread(run);
      if (again.traceHash !== result.traceHash) {
        nondeterministic = traceDivergence(result, again);
      }
    }
    const outcome = { result, nondeterministic };
    outcomes.push(outcome);
    options.onSeed?.(outcome, outcomes.length);
  }
  return outcomes;
}
