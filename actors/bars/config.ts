/**
 * The bars actor's configuration: which bar sizes to build, how many closed bars to keep per size,
 * and how long after a bar's end a clock tick closes it when no sample has.
 */
import { ConfigError, configObject, readNumber, rejectUnknown } from "../../protocol/mod.ts";

/** The bars actor's configuration. */
export interface BarsConfig {
  /** Bar sizes as written (`1s`, `1m`, `5m`, `1h`, `1d`): a count and a unit s, m, h or d. */
  bar_sizes: string[];
  /** Closed bars kept per channel and size (the scans' history). */
  history_bars: number;
  /** A clock tick closes a bar once it is this late past the bar's end with no newer sample (a
   *  size whose bars are one sample each is closed by the next sample instead: kernel.ts). */
  close_grace_ms: number;
  /** A directory of OHLCV CSV files (`<channel>.<size>.csv`) that seeds the rings when a host
   *  starts (history_dir.ts); read once, at the start. */
  history_dir?: string;
}

/** The default: 1s, 1m, 5m, 1h and 1d bars, 500 of each, closed by ticks 1 s after their end. */
export const defaultBarsConfig: BarsConfig = {
  bar_sizes: ["1s", "1m", "5m", "1h", "1d"],
  history_bars: 500,
  close_grace_ms: 1000,
};

/** Bar sizes at most. */
export const BAR_SIZES_MAX = 16;
/** Closed bars kept per size at most. */
export const HISTORY_BARS_MAX = 100_000;

const UNIT_US: Record<string, number> = { s: 1e6, m: 60e6, h: 3600e6, d: 86_400e6 };
const BAR_SIZE = /^([1-9][0-9]{0,5})([smhd])$/;

/** The length of a bar size in microseconds, or undefined when `name` is not one. */
export function barSizeUs(name: string): number | undefined {
  const m = BAR_SIZE.exec(name);
  return m ? Number(m[1]) * UNIT_US[m[2]!]! : undefined;
}

/** The canonical name of a bar size in microseconds: the largest whole unit (`60s` is `1m`). */
export function barSizeName(us: number): string {
  for (const unit of ["d", "h", "m"]) {
    const per = UNIT_US[unit]!;
    if (us % per === 0) return `${us / per}${unit}`;
  }
  return `${us / 1e6}s`;
}

/** Validates a bars configuration over `base`; throws ConfigError naming the field. */
export function parseBarsConfig(raw: unknown, base: BarsConfig, path: string): BarsConfig {
  const obj = configObject(raw, path);
  rejectUnknown(obj, ["bar_sizes", "history_bars", "close_grace_ms", "history_dir"], path);
  let sizes = base.bar_sizes;
  if (obj.bar_sizes !== undefined) {
    const at = path ? `${path}.bar_sizes` : "bar_sizes";
    const list = obj.bar_sizes;
    if (!Array.isArray(list) || list.length === 0 || list.length > BAR_SIZES_MAX) {
      throw new ConfigError(
        at,
        `Field "${at}" must be a list of 1 to ${BAR_SIZES_MAX} bar sizes such as "1m", got ${
          JSON.stringify(list)
        }`,
        { value: list },
      );
    }
    const seen = new Set<number>();
    for (const name of list) {
      const us = typeof name === "string" ? barSizeUs(name) : undefined;
      if (us === undefined) {
        throw new ConfigError(
          at,
          `Field "${at}" holds ${
            JSON.stringify(name)
          }, which is not a bar size: a count and a unit s, m, h or d, such as "5m"`,
          { value: name },
        );
      }
      if (seen.has(us)) {
        throw new ConfigError(at, `Field "${at}" names the size ${name} twice`, { value: name });
      }
      seen.add(us);
    }
    sizes = list as string[];
  }
  let historyDir = base.history_dir;
  if (obj.history_dir !== undefined) {
    const at = path ? `${path}.history_dir` : "history_dir";
    if (typeof obj.history_dir !== "string" || obj.history_dir === "") {
      throw new ConfigError(
        at,
        `Field "${at}" must be a directory's path, got ${JSON.stringify(obj.history_dir)}`,
        { value: obj.history_dir },
      );
    }
    historyDir = obj.history_dir;
  }
  return {
    ...(historyDir === undefined ? {} : { history_dir: historyDir }),
    bar_sizes: sizes,
    history_bars: readNumber(obj, "history_bars", path, base.history_bars, {
      min: 2,
      max: HISTORY_BARS_MAX,
      integer: true,
    }),
    close_grace_ms: readNumber(obj, "close_grace_ms", path, base.close_grace_ms, {
      min: 0,
      max: 86_400_000,
    }),
  };
}
