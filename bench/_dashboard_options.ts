/**
 * The options of `troupe bench dashboard`: the pages run and how they are fed, what is written
 * beside the figures, and the Chromium switches of a diagnostic run.
 */
import { BenchOptionError } from "./_bench_option_error.ts";
import { BENCH_BAR_S } from "./_dashboard_series.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";

const MODES = ["troupe", "worker", "naive", "floor"] as const;
/** The pages run when `--modes` is not given. */
const DEFAULT_MODES = ["troupe", "floor", "naive"] as const;
export type Mode = typeof MODES[number];

export interface Settings {
  charts: number;
  prefill: number;
  points: number;
  updates: number;
  rate: number;
  rounds: number;
  /** Where to write a summary of a CPU profile of troupe's page (the first round), or "". */
  profile: string;
  /** Where to write a screenshot of troupe's page after the first round, or "". */
  screenshot: string;
  /** Where to write a summary of a Chromium trace of the first round's pages, or "". */
  trace: string;
  /** The pages run: both, or troupe's alone (no baseline: for profiling and quick comparisons). */
  modes: readonly Mode[];
  /** Chromium switches added to the charter's (diagnostic runs: the rows are named `diag_...`). */
  chromiumFlags: readonly string[];
  /** Each page's window made tall enough to show every card (rows named `..._all_visible`). */
  allVisible: boolean;
  /** Bars fed with the samples, the same to every page (rows named `..._bars`). */
  bars: boolean;
  /** Labelled channels of the fleet pages (0: none), their prefill, rounds and rate. */
  fleet: number;
  fleetPrefill: number;
  fleetUpdates: number;
  fleetRate: number;
  /** Every N-th fleet channel leaves its band in turns (0: none; rows named `..._out`). */
  fleetOut: number;
}

/** The dashboard bench's settings, read from its arguments. */
export function dashboardSettings(args: string[]): Settings {
  const {
    modes,
    "chromium-flags": flags,
    "all-visible": allVisible,
    bars,
    "fleet-prefill": fleetPrefill,
    "fleet-updates": fleetUpdates,
    "fleet-rate": fleetRate,
    "fleet-out": fleetOut,
    ...v
  } = readOptions(args, DASHBOARD_OPTIONS);
  return {
    ...v,
    fleetPrefill,
    fleetUpdates,
    fleetRate,
    fleetOut,
    modes: modesOption(modes),
    chromiumFlags: chromiumFlagsOption(flags),
    allVisible,
    bars,
  };
}

/** `--chromium-flags`: switches separated by spaces, each `--name` or `--name=value`. */
function chromiumFlagsOption(value: string | undefined): readonly string[] {
  if (value === undefined) return [];
  const flags = value.trim().split(/\s+/);
  const bad = flags.find((f) => !/^--[a-z0-9][a-z0-9-]*(=\S*)?$/.test(f));
  if (bad !== undefined) {
    throw new BenchOptionError(
      `Option --chromium-flags takes Chromium switches such as --in-process-gpu, separated by ` +
        `spaces; ${JSON.stringify(bad)} is not one (in ${JSON.stringify(value)})`,
    );
  }
  return flags;
}

function modesOption(value: string): readonly Mode[] {
  const modes = value.split(",");
  const bad = modes.find((m) => !(MODES as readonly string[]).includes(m));
  if (bad !== undefined || !modes.includes("troupe") || new Set(modes).size !== modes.length) {
    throw new BenchOptionError(
      `Option --modes must list troupe and any of worker, naive, floor once each ` +
        `(comma-separated), ` +
        `got ${JSON.stringify(value)}`,
    );
  }
  return modes as Mode[];
}

/** The dashboard bench's options. */
export const DASHBOARD_OPTIONS = {
  charts: {
    // The page's SLOT_LIMITS.built_all_max (not imported: the page's modules are the browser's):
    // past it the page builds only the cards near the window, and a card built later holds the
    // index's tail, not the prefill. The fleet pages measure that.
    help: "charts updated each round (at most 16: past that the page builds only the cards " +
      "near the window, which --fleet measures)",
    default: 16,
    number: { min: 1, max: 16, integer: true },
  },
  prefill: {
    help: "points each chart holds before measuring",
    default: 2000,
    number: { min: 10, max: 2000, integer: true },
  },
  points: {
    help: "samples per update frame",
    default: 10,
    number: { min: 1, max: 1000, integer: true },
  },
  updates: {
    help: "rounds of updates measured per run",
    default: 150,
    number: { min: 20, integer: true },
  },
  rate: { help: "rounds a second", arg: "R", default: 5, number: { min: 0.5, max: 60 } },
  rounds: {
    help: "alternations of the pages",
    default: 3,
    number: { min: 1, max: 20, integer: true },
  },
  profile: {
    help: "write the functions with the most self time in the first round's pages to F " +
      "(troupe), F.<mode> (floor, naive, worker) and F.fleet-<N> (the fleet pages)",
    arg: "F",
    default: "",
  },
  screenshot: {
    help: "write a screenshot of the first round's troupe page to F (and the baseline's)",
    arg: "F",
    default: "",
  },
  trace: {
    help: "write where the first round's pages spent their time, per thread, from a " +
      "Chromium trace, to F (troupe), F.<mode> (floor, naive, worker) and F.fleet-<N> (the " +
      "fleet pages' feed)",
    arg: "F",
    default: "",
  },
  modes: {
    help: "the pages run, in turn: troupe and any of floor (the baseline of frame_ms_p50/p99: " +
      "troupe's page whose 16 live canvases only scroll a strip each frame, the browser's own " +
      "cost of showing them), naive (the baseline of frame_ms_p99_vs_naive: a chart redrawn per " +
      "message) and worker (the live views drawn in a worker; logged, not in the table)",
    arg: "M",
    default: DEFAULT_MODES.join(","),
  },
  "all-visible": {
    help: "each page's window as tall as the page, so that every card is on screen (checked " +
      "each run; without it the window is 1600x1200 and shows about 10 of 16); the rows are " +
      "then named frame_ms_p50_all_visible, ...",
    flag: true,
  },
  bars: {
    help:
      `feed the bars actor's closed bars (${BENCH_BAR_S} s of samples each) with the samples, ` +
      "the same to every page, so each card keeps a candle strip on its line's range (the " +
      "floor's page holds the same strips and drives only its live views); the rows are then " +
      "named ..._bars",
    flag: true,
  },
  fleet: {
    help: "labelled channels (instance, job) of the fleet pages, measured against the same " +
      "page over 16 in each round: fleet_first_draw_ms and fleet_frame_ms_p99 (0: not run)",
    arg: "N",
    default: 2000,
    number: { min: 0, max: 20_000, integer: true },
  },
  "fleet-prefill": {
    help: "points each fleet channel holds before its page opens",
    arg: "N",
    default: 120,
    number: { min: 1, max: 2000, integer: true },
  },
  "fleet-updates": {
    help: "rounds of one frame per fleet channel measured per page",
    arg: "N",
    default: 20,
    number: { min: 5, integer: true },
  },
  "fleet-rate": {
    help: "fleet rounds a second",
    arg: "R",
    default: 1,
    number: { min: 0.1, max: 10 },
  },
  "fleet-out": {
    help: "every N-th fleet channel (from the first, on both pages) leaves its band for 3 s of " +
      "every 6, so the fleet's order moves and cards come near the window and leave it as a " +
      "fleet with some of it out of the ordinary makes them; the fleet rows are then named " +
      "..._out (0: every channel in its band, the bar's feed)",
    arg: "N",
    default: 0,
    number: { min: 0, integer: true },
  },
  "chromium-flags": {
    help: "diagnostic: Chromium switches added to the charter's (space-separated, " +
      "e.g. --chromium-flags=--in-process-gpu); the rows are then named diag_frame_ms_p50/p99, " +
      "not the bar's",
    arg: "S",
  },
} satisfies OptionTable;
