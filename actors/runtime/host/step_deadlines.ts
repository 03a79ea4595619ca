/**
 * A launched host's step deadlines: the watchdog started beside it (step_watch.ts), and the
 * overrun the last run left (step_overrun.ts), whose input this start skips. Only a host with a
 * data directory of its own (a file journal) has them: the overrun file lives there. And the
 * trials thread of a team's kinds (step_trials.ts), which any host has.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { HostConfig } from "./host_config.ts";
import type { HostOptions } from "./host_options.ts";
import { readStepOverrun, STEP_OVERRUN_FILE, StepOverrunSkip } from "./step_overrun.ts";
import { StepWatch, type StepWatchHandle } from "./step_watch.ts";
import { type StepTrialModules, StepTrials } from "./step_trials.ts";
import { stepDeadlineMs } from "./supervision_config.ts";

/** A host's step deadlines, as launched. */
export interface StepDeadlines {
  /** What the host is given. */
  options: Pick<HostOptions, "stepWatch" | "stepOverrun">;
  /** Once the host has recovered: an overrun input that nothing will deliver again is let go. */
  afterStart(): void;
  stop(): Promise<void>;
}

/**
 * Starts the step watchdog of a host of `config` (or attaches to the one `watchdog` names, which
 * a threaded host's main thread started), reading the overrun its last run left.
 */
export async function startStepDeadlines(
  config: HostConfig,
  log: (message: string) => void,
  watchdog?: StepWatchHandle,
): Promise<StepDeadlines | undefined> {
  if (config.journal.kind !== "file") return undefined;
  mkdirSync(config.data_dir, { recursive: true });
  const file = join(config.data_dir, STEP_OVERRUN_FILE);
  const found = readStepOverrun(file, log);
  const overrun = found && new StepOverrunSkip(found, file, log);
  const deadlineMs = (kind: string) => stepDeadlineMs(config.supervision, kind);
  const watch = watchdog
    ? StepWatch.attach(watchdog, deadlineMs)
    : await StepWatch.start({ file, hostId: config.host_id, deadlineMs });
  return {
    options: { stepWatch: watch, ...(overrun ? { stepOverrun: overrun } : {}) },
    afterStart: () => letGoUndelivered(overrun, log),
    stop: () => watch.stop(),
  };
}

/**
 * Once a host has recovered: an overrun whose input recovery did not meet and that no input
 * delivers again (core input: source position 0) is logged as lost and let go.
 */
export function letGoUndelivered(
  overrun: StepOverrunSkip | undefined,
  log: (message: string) => void,
): void {
  if (!overrun?.pending || overrun.overrun.src_pos > 0) return;
  log(
    `${overrun.overrun.stream}: ${overrun.error().message}; it was not journaled, and core ` +
      `input does not deliver it again`,
  );
  overrun.done();
}

/** A team's kinds: those of a host's kinds module that are not troupe's own. */
export interface TeamKinds {
  /** The URL of the host's kinds module (kinds_module.ts), which the trials thread loads. */
  module: string | URL;
  /** The names of the team's kinds in it. */
  kinds: readonly string[];
  /**
   * The trials thread's modules, built by the thread that started this one (a threaded host's
   * main thread: its host threads run from a bundle, and cannot build them).
   */
  modules?: StepTrialModules;
}

/**
 * The team's kinds whose steps a host of `config` tries on a trials thread: those it runs, unless
 * `supervision.isolate_user_kinds` is false (then none).
 */
export function triedKinds(config: HostConfig, team: TeamKinds | undefined): string[] {
  if (!config.supervision.isolate_user_kinds) return [];
  return (team?.kinds ?? []).filter((kind) => kind in config.actors);
}

/**
 * Starts the trials thread of the team's kinds a host of `config` runs, unless the configuration
 * keeps them on the host's thread (`supervision.isolate_user_kinds: false`) or it runs none.
 */
export async function startStepTrials(
  config: HostConfig,
  team: TeamKinds | undefined,
  log: (message: string) => void,
): Promise<StepTrials | undefined> {
  const kinds = triedKinds(config, team);
  if (team === undefined || kinds.length === 0) return undefined;
  return await StepTrials.start({
    kindsModule: team.module,
    ...(team.modules ? { modules: team.modules } : {}),
    kinds,
    deadlineMs: (kind) => stepDeadlineMs(config.supervision, kind),
    log,
  });
}
