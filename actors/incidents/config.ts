/**
 * The incident stage's configuration: the grouping window, the `for` duration an incident must be
 * open before it fires, the hold that keeps it firing after its last finding, the bar a pending
 * incident must clear to fire, the window that links findings of different kinds on one channel,
 * and how late a finding may arrive and still be ordered by its event time. All durations are event
 * time, µs. `parseIncidentConfig` validates a raw object field by field and names the path.
 */
import { configObject, readBoolean, readNumber, rejectUnknown } from "../../protocol/mod.ts";

/** The incident stage's configuration. Units go last in the names. */
export interface IncidentConfig {
  /**
   * Findings of one kind within this long of an incident's first join it, whatever their channel;
   * a later one opens a new incident, and an incident stays open at least this long.
   */
  group_window_us: number;
  /**
   * The older rule: a finding of a member channel joins its open incident whatever
   * the window, so denser findings chain one incident over a session. Off by default; a recording
   * whose header lacks the field was made under it, and replays with it on.
   */
  member_joins: boolean;
  /**
   * Whether each member carries its strongest finding (`peak`: measure, value, expected band),
   * which an alert reads to say per series what was seen and how improbable. On by default; a
   * recording whose header lacks the field was made before it, and replays with it off.
   */
  member_peaks: boolean;
  /** An incident stays pending this long after its first finding before it may fire. */
  for_us: number;
  /** An incident resolves once this long has passed since its last finding (keep firing for). */
  hold_us: number;
  /**
   * An episode a finding started (a coherence group turned coherent) holds its incident open at
   * most this long after the incident's last finding, should the finding that ends it never come.
   */
  episode_hold_max_us: number;
  /** A pending incident fires when its peak severity reaches this (1-5)... */
  fire_severity_min: number;
  /** ...or when it has this many member channels. */
  fire_members_min: number;
  /** Findings of different kinds on one channel within this long of each other are linked. */
  link_window_us: number;
  /**
   * Findings are ordered by event time within this lateness (later ones are taken as they come).
   */
  reorder_us: number;
  /**
   * With live feeds (their hosts' progress marks say so), a finding further than this past the
   * hosts' wall clock (carried in the marks) is taken at that bound: one frame dated far ahead
   * cannot carry event time there.
   */
  ahead_us_max: number;
  /**
   * A source (a host) whose progress marks stop counts for nothing once another's newest mark is
   * this much later by their wall clocks: a host that died holds the watermark back no longer.
   */
  source_silent_us: number;
}

/** The defaults (docs/incidents.md says why each is what it is). */
export const defaultIncidentConfig: IncidentConfig = {
  group_window_us: 60_000_000,
  member_joins: false,
  member_peaks: true,
  for_us: 2_000_000,
  hold_us: 30_000_000,
  episode_hold_max_us: 3_600_000_000,
  fire_severity_min: 2,
  fire_members_min: 2,
  link_window_us: 5_000_000,
  reorder_us: 2_000_000,
  ahead_us_max: 60_000_000,
  source_silent_us: 10_000_000,
};

/**
 * The settings a recording was made under when its header's `config.incidents` lacks
 * `member_joins` (written under the older rule, when a stage's settings all had to be there): the
 * old rule and its 5 s window, so `troupe replay --verify` makes the incidents it recorded.
 */
export const legacyIncidentConfig: IncidentConfig = {
  ...defaultIncidentConfig,
  group_window_us: 5_000_000,
  member_joins: true,
  member_peaks: false,
};

/**
 * The base a recorded `config.incidents` is read over: the legacy one without `member_joins`, and
 * without members' peaks when it lacks `member_peaks` (recorded before incidents carried them).
 */
export function recordedIncidentBase(raw: unknown): IncidentConfig {
  const has = (k: string) => typeof raw === "object" && raw !== null && k in raw;
  if (!has("member_joins")) return legacyIncidentConfig;
  return has("member_peaks")
    ? defaultIncidentConfig
    : { ...defaultIncidentConfig, member_peaks: false };
}

const FIELDS: ReadonlyArray<keyof IncidentConfig> = [
  "group_window_us",
  "member_joins",
  "member_peaks",
  "for_us",
  "hold_us",
  "episode_hold_max_us",
  "fire_severity_min",
  "fire_members_min",
  "link_window_us",
  "reorder_us",
  "ahead_us_max",
  "source_silent_us",
];

/** Validates `raw` over `base`; throws ConfigError naming `path` and the field. */
export function parseIncidentConfig(
  raw: unknown,
  base: IncidentConfig = defaultIncidentConfig,
  path = "incidents",
): IncidentConfig {
  const o = configObject(raw ?? {}, path);
  rejectUnknown(o, FIELDS, path);
  const read = (
    key: Exclude<keyof IncidentConfig, "member_joins" | "member_peaks">,
    bounds: { min: number; max: number },
  ) => readNumber(o, key, path, base[key], { ...bounds, integer: true });
  const us = { min: 0, max: 86_400_000_000 };
  return {
    group_window_us: read("group_window_us", us),
    member_joins: readBoolean(o, "member_joins", path, base.member_joins),
    member_peaks: readBoolean(o, "member_peaks", path, base.member_peaks),
    for_us: read("for_us", us),
    hold_us: read("hold_us", us),
    episode_hold_max_us: read("episode_hold_max_us", us),
    fire_severity_min: read("fire_severity_min", { min: 1, max: 5 }),
    fire_members_min: read("fire_members_min", { min: 1, max: 1_000_000 }),
    link_window_us: read("link_window_us", us),
    reorder_us: read("reorder_us", us),
    ahead_us_max: read("ahead_us_max", us),
    source_silent_us: read("source_silent_us", us),
  };
}
