/**
 * The coherence actor's configuration: which channels form which group, how bars are cut and
 * aligned, the half-lives of the covariance and of the shift, the solver's accuracy, and the
 * machine's hysteresis thresholds. `parseCoherenceConfig` validates a raw object field by field and
 * names the path of anything wrong; `groupsOf` is the routing of a channel to its groups.
 */
import {
  ConfigError,
  configObject,
  describeValue,
  isValidName,
  readNumber,
  rejectUnknown,
} from "../../protocol/mod.ts";

/** The coherence actor's configuration. Units go last in the names. */
export interface CoherenceConfig {
  /**
   * Group name -> members. A member is a channel name, or a prefix ending in `*` (`"eq_*"`); `"*"`
   * alone is every channel. Empty: one group, `all`, of every channel.
   */
  groups: Record<string, string[]>;
  /**
   * Bar width: samples are aligned on buckets `floor(t / bar_us)`; the last price of a bucket
   * counts.
   */
  bar_us: number;
  /** Half-life of the exponentially weighted covariance, in bars (group steps). */
  half_life_bars: number;
  /** Eigenvalues summed in the absorption ratio; 0 means ceil(N / 5). */
  top_n: number;
  /** Spare vectors tracked beyond `top_n`: more converge faster per update but cost more each. */
  block_extra: number;
  /** Target relative error of the ratio (the solver's own estimate). */
  tolerance: number;
  /** Cap on block iterations per update. */
  iterations_max: number;
  /** A bar is closed at the latest when a bar this much newer has data: the wait for stragglers. */
  lag_bars_max: number;
  /**
   * A channel silent for more bars than this restarts: its next price is a new base, not a return.
   */
  gap_bars_max: number;
  /** Cap on channels per group; more are skipped and counted. */
  channels_max: number;
  /** Half-life of the short mean of the ratio, in bars. */
  shift_short_half_life_bars: number;
  /** Half-life of the long mean and standard deviation of the ratio, in bars. */
  shift_long_half_life_bars: number;
  /** Bars before the shift is trusted (the machine ignores earlier ones). */
  warmup_bars: number;
  /** How many channels a `coherence` event names. */
  top_channels: number;
  /** Shift at or above which the group becomes coherent. */
  coherent_enter: number;
  /** Shift at or below which a coherent group is normal again. */
  coherent_exit: number;
  /** Shift at or below which the group becomes fragmented. */
  fragmented_enter: number;
  /** Shift at or above which a fragmented group is normal again. */
  fragmented_exit: number;
  /**
   * Bars in a row a new phase must hold before the group takes it (the `for` duration; 0 and 1:
   * at once). A shift that pokes past a threshold for fewer bars changes nothing, so a steady
   * feed does not flap.
   */
  change_for_bars: number;
}

/** The group every channel belongs to when no groups are configured. */
export const DEFAULT_GROUP = "all";

/** Defaults: one-second bars, a 60-bar covariance, Kritzman's 15-bar over 250-bar shift. */
export const defaultCoherenceConfig: CoherenceConfig = Object.freeze({
  groups: {},
  bar_us: 1_000_000,
  half_life_bars: 60,
  top_n: 0,
  block_extra: 4,
  tolerance: 1e-8,
  iterations_max: 30,
  lag_bars_max: 64,
  gap_bars_max: 64,
  channels_max: 1024,
  shift_short_half_life_bars: 15,
  shift_long_half_life_bars: 250,
  warmup_bars: 250,
  top_channels: 5,
  coherent_enter: 2,
  coherent_exit: 0.5,
  fragmented_enter: -2,
  fragmented_exit: -0.5,
  change_for_bars: 0,
}) as CoherenceConfig;

const NUMBER_FIELDS: Record<
  Exclude<keyof CoherenceConfig, "groups">,
  { min?: number; max?: number; integer?: boolean }
> = {
  bar_us: { min: 1, integer: true },
  half_life_bars: { min: 1e-3 },
  top_n: { min: 0, max: 100_000, integer: true },
  block_extra: { min: 1, max: 1000, integer: true },
  tolerance: { min: 1e-15, max: 1e-2 },
  iterations_max: { min: 1, max: 1000, integer: true },
  lag_bars_max: { min: 0, max: 1_000_000, integer: true },
  gap_bars_max: { min: 1, integer: true },
  channels_max: { min: 1, max: 100_000, integer: true },
  shift_short_half_life_bars: { min: 1e-3 },
  shift_long_half_life_bars: { min: 1e-3 },
  warmup_bars: { min: 0, integer: true },
  top_channels: { min: 0, max: 1000, integer: true },
  coherent_enter: {},
  coherent_exit: {},
  fragmented_enter: {},
  fragmented_exit: {},
  change_for_bars: { min: 0, max: 1_000_000, integer: true },
};

const KNOWN = ["groups", ...Object.keys(NUMBER_FIELDS)];

/** Validates `raw` over `base`, naming `path` and the field of anything wrong. */
export function parseCoherenceConfig(
  raw: unknown,
  base: CoherenceConfig = defaultCoherenceConfig,
  path = "",
): CoherenceConfig {
  const obj = configObject(raw, path);
  rejectUnknown(obj, KNOWN, path);
  const out: CoherenceConfig = { ...base, groups: base.groups };
  for (const [key, bounds] of Object.entries(NUMBER_FIELDS)) {
    const field = key as Exclude<keyof CoherenceConfig, "groups">;
    out[field] = readNumber(obj, field, path, base[field], bounds);
  }
  if (obj.groups !== undefined) out.groups = parseGroups(obj.groups, at(path, "groups"));
  if (out.shift_short_half_life_bars > out.shift_long_half_life_bars) {
    const f = at(path, "shift_short_half_life_bars");
    throw new ConfigError(
      f,
      `Field "${f}" must be <= shift_long_half_life_bars (${out.shift_long_half_life_bars}), got ` +
        `${out.shift_short_half_life_bars}`,
      { value: out.shift_short_half_life_bars },
    );
  }
  const order: [keyof CoherenceConfig, keyof CoherenceConfig][] = [
    ["fragmented_enter", "fragmented_exit"],
    ["fragmented_exit", "coherent_exit"],
    ["coherent_exit", "coherent_enter"],
  ];
  for (const [lo, hi] of order) {
    const a = out[lo] as number;
    const b = out[hi] as number;
    if (lo === "fragmented_exit" ? a > b : a >= b) {
      const f = at(path, hi);
      throw new ConfigError(
        f,
        `Field "${f}" must be ${lo === "fragmented_exit" ? ">=" : ">"} ${lo} (${a}), got ${b}: ` +
          "thresholds go fragmented_enter < fragmented_exit <= coherent_exit < coherent_enter",
        { value: b },
      );
    }
  }
  return out;
}

function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

const MEMBER = /^(?:[A-Za-z0-9_-]{1,64}\*?|\*)$/;

function parseGroups(raw: unknown, path: string): Record<string, string[]> {
  const obj = configObject(raw, path);
  const out: Record<string, string[]> = {};
  for (const [name, members] of Object.entries(obj)) {
    const f = at(path, name);
    if (!isValidName(name)) {
      throw new ConfigError(
        f,
        `Group name ${
          describeValue(name)
        } at "${path}" is invalid: names are 1 to 64 of A-Z a-z 0-9 _ -`,
        { value: name },
      );
    }
    if (!Array.isArray(members) || members.length === 0) {
      throw new ConfigError(
        f,
        `Field "${f}" must be a non-empty array of channel names or prefixes ending in "*", got ${
          describeValue(members)
        }`,
        { value: members },
      );
    }
    const list: string[] = [];
    members.forEach((member: unknown, i: number) => {
      if (typeof member !== "string" || !MEMBER.test(member)) {
        throw new ConfigError(
          `${f}[${i}]`,
          `Field "${f}[${i}]" must be a channel name or a prefix ending in "*", got ${
            describeValue(member)
          }`,
          { value: member },
        );
      }
      list.push(member);
    });
    out[name] = list;
  }
  return out;
}

interface Matcher {
  exact: Map<string, string[]>;
  prefixes: { prefix: string; group: string }[];
  all: string[];
}

const matchers = new WeakMap<Record<string, string[]>, Matcher>();

function matcherOf(groups: Record<string, string[]>): Matcher {
  let m = matchers.get(groups);
  if (m) return m;
  m = { exact: new Map(), prefixes: [], all: [] };
  for (const [group, members] of Object.entries(groups)) {
    for (const member of members) {
      if (member.endsWith("*")) {
        m.prefixes.push({ prefix: member.slice(0, -1), group });
      } else {
        const list = m.exact.get(member) ?? [];
        if (!list.includes(group)) list.push(group);
        m.exact.set(member, list);
      }
    }
  }
  matchers.set(groups, m);
  return m;
}

/** The groups `channel` belongs to, in configuration order; `["all"]` when none are configured. */
export function groupsOf(channel: string, config: CoherenceConfig): string[] {
  const names = Object.keys(config.groups);
  if (names.length === 0) return [DEFAULT_GROUP];
  const m = matcherOf(config.groups);
  const hits = new Set(m.exact.get(channel) ?? []);
  for (const { prefix, group } of m.prefixes) {
    if (channel.startsWith(prefix)) hits.add(group);
  }
  return names.filter((g) => hits.has(g));
}

/** Whether `channel` is a member of `group` under `config`. */
export function isMember(channel: string, group: string, config: CoherenceConfig): boolean {
  return groupsOf(channel, config).includes(group);
}
