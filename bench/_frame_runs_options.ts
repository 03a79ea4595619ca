/**
 * The options of a bench timed as the best of short runs over sample frames (`anomaly`, `codec`):
 * the frame's samples, each run's milliseconds and the number of runs, written once.
 */
import type { OptionTable } from "./_option_table.ts";

/** The table of `--samples`, `--ms` (default `msDefault`) and `--runs`. */
export function frameRunsOptions(msDefault: number) {
  return {
    samples: {
      help: "samples per frame of the main figure",
      default: 500,
      number: { min: 1, max: 65_536, integer: true },
    },
    ms: {
      help: "milliseconds per timed run",
      default: msDefault,
      number: { min: 10, max: 60_000 },
    },
    runs: {
      help: "timed runs per figure; the best counts",
      default: 5,
      number: { min: 1, max: 100, integer: true },
    },
  } satisfies OptionTable;
}
