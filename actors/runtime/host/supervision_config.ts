/**
 * The `supervision` section of a host's configuration file: what the host does with inputs that
 * take its instances down. `crash_attempts_max`: how many times in a row the host may die applying
 * one input before recovery skips it and sends it to `troupe.dlq.crash` (crash_attempts.ts).
 * `step_deadline_ms`: how long one step of a kind may run before the host is ended and the input
 * skipped on restart, to `troupe.dlq.deadline` (step_watch.ts); `step_deadline_ms_by_kind` sets
 * it for a kind. `isolate_user_kinds`: whether a team's kinds (from a kinds module) have their
 * steps tried on a worker thread first (step_trials.ts), so that one past its deadline ends that
 * thread, not the host.
 */
import {
  ConfigError,
  configObject,
  readBoolean,
  readNumber,
  rejectUnknown,
} from "../../../protocol/mod.ts";

/** The `supervision` section. */
export interface SupervisionConfig {
  /** Deaths of the host in a row applying one input before it is skipped: 2 (at least 2). */
  crash_attempts_max: number;
  /** The step deadline of every kind, ms: 30,000 (see docs/configuration.md for its origin). */
  step_deadline_ms: number;
  /** The step deadline of a kind, over `step_deadline_ms`. */
  step_deadline_ms_by_kind: Record<string, number>;
  /**
   * A team's kinds' steps are tried on a worker thread first: true, so that a step that never
   * returns ends that thread, not the host (docs/configuration.md).
   */
  isolate_user_kinds: boolean;
}

/** The bounds of a step deadline, ms: above the watchdog's period, at most an hour. */
const DEADLINE_BOUNDS = { min: 100, max: 3_600_000 } as const;

/** The defaults. */
export function defaultSupervisionConfig(): SupervisionConfig {
  return {
    crash_attempts_max: 2,
    step_deadline_ms: 30_000,
    step_deadline_ms_by_kind: {},
    isolate_user_kinds: true,
  };
}

/** The step deadline of `kind`, ms. */
export function stepDeadlineMs(config: SupervisionConfig, kind: string): number {
  return config.step_deadline_ms_by_kind[kind] ?? config.step_deadline_ms;
}

/** Parses the `supervision` section; throws ConfigError naming the field. */
export function parseSupervisionSection(
  raw: unknown,
  kinds: readonly string[],
): SupervisionConfig {
  const d = defaultSupervisionConfig();
  if (raw === undefined) return d;
  const s = configObject(raw, "supervision");
  rejectUnknown(
    s,
    ["crash_attempts_max", "step_deadline_ms", "step_deadline_ms_by_kind", "isolate_user_kinds"],
    "supervision",
  );
  const byKind: Record<string, number> = {};
  if (s.step_deadline_ms_by_kind !== undefined) {
    const path = "supervision.step_deadline_ms_by_kind";
    const given = configObject(s.step_deadline_ms_by_kind, path);
    for (const kind of Object.keys(given)) {
      if (!kinds.includes(kind)) {
        throw new ConfigError(
          `${path}.${kind}`,
          `Unknown actor kind "${path}.${kind}"; known kinds: ${kinds.join(", ")}`,
          { value: kind },
        );
      }
      byKind[kind] = readNumber(given, kind, path, 0, DEADLINE_BOUNDS);
    }
  }
  return {
    // One would skip the last input of every instance after any death: which one killed the
    // host is only known once a recovery dies on it too.
    crash_attempts_max: readNumber(s, "crash_attempts_max", "supervision", d.crash_attempts_max, {
      min: 2,
      max: 1000,
      integer: true,
    }),
    step_deadline_ms: readNumber(
      s,
      "step_deadline_ms",
      "supervision",
      d.step_deadline_ms,
      DEADLINE_BOUNDS,
    ),
    step_deadline_ms_by_kind: byKind,
    isolate_user_kinds: readBoolean(s, "isolate_user_kinds", "supervision", d.isolate_user_kinds),
  };
}
