/**
 * Reading and checking feed options, shared by the generators: every bad option stops with a
 * ConfigError naming the option and its value, never a silently clamped default.
 */
import {
  ConfigError,
  configObject,
  describeValue,
  FRAME_SAMPLES_MAX_DEFAULT,
  readNumber,
} from "../../protocol/mod.ts";

/** 2024-01-01T00:00:00Z, a Monday: the default time of a generated feed's first sample. */
export const START_US_DEFAULT = Date.UTC(2024, 0, 1) * 1000;

/** The options every generator resolves. */
export interface CommonOptions {
  seed: number;
  batch: number;
  startUs: number;
}

/** Options as an untyped record (the CLI and config files hand them in raw). */
export function optionRecord(raw: unknown): Record<string, unknown> {
  return configObject(raw ?? {}, "");
}

/** Reads seed, batch and startUs. */
export function readCommon(obj: Record<string, unknown>): CommonOptions {
  return {
    seed: readNumber(obj, "seed", "", 1, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
    batch: readNumber(obj, "batch", "", 100, {
      integer: true,
      min: 1,
      max: FRAME_SAMPLES_MAX_DEFAULT,
    }),
    startUs: readNumber(obj, "startUs", "", START_US_DEFAULT, { min: 0 }),
  };
}

/** Reads a positive number (strictly greater than 0). */
export function readPositive(
  obj: Record<string, unknown>,
  key: string,
  fallback: number,
  integer = false,
): number {
  const value = readNumber(obj, key, "", fallback, { integer });
  if (value <= 0) throw new ConfigError(key, `Field "${key}" must be > 0, got ${value}`, { value });
  return value;
}

/** Reads a probability-like number in [0, max]. */
export function readFraction(
  obj: Record<string, unknown>,
  key: string,
  fallback: number,
  max = 1,
): number {
  return readNumber(obj, key, "", fallback, { min: 0, max });
}

/** Rejects option names the generator does not know: a typo must not pass silently. */
export function rejectUnknownOptions(
  obj: Record<string, unknown>,
  known: readonly string[],
  feed: string,
): void {
  for (const key of Object.keys(obj)) {
    if (obj[key] !== undefined && !known.includes(key)) {
      throw new ConfigError(
        key,
        `Unknown option "${key}" for feed "${feed}" (value ${
          describeValue(obj[key])
        }); known options: ${known.join(", ")}`,
        { value: obj[key] },
      );
    }
  }
}
