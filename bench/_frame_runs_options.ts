/**
 * The options of a bench timed as the best of short runs (`crc32`), over sample frames (`anomaly`,
 * `codec`): the frame's samples, each run's milliseconds and the number of runs, written once.
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
    ...timedRunsOptions(msDefault),
  } satisfies OptionTable;
}

/** The table of `--ms` (default `msDefault`) and `--runs`: a figure as the best of short runs. */
export function timedRunsOptions(msDefault: number) {
  return {
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
