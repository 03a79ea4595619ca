/**
 * Configuration errors and the readers that raise them. A bad configuration stops startup with
 * the file, the field's path and the value, so the user knows exactly what to fix.
 */
import { describeValue } from "./protocol_error.ts";

/** A configuration value that is missing, of the wrong type or out of range. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The dotted path of the field, e.g. `actors.stats.every_samples`. */
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, message: string, options: { value?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.field = field;
    this.value = options.value;
  }
}

/** Bounds of a number: a configuration field's, a command's or a benchmark's option. */
export interface NumberBounds {
  min?: number;
  max?: number;
  integer?: boolean;
  /** `min` itself is out: the value must be > min. */
  exclusiveMin?: boolean;
}

/** Checks that `raw` is a plain object (a JSON object), naming `path` otherwise. */
export function configObject(raw: unknown, path: string): Record<string, unknown> {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    return raw as Record<string, unknown>;
  }
  throw new ConfigError(
    path,
    `${path || "configuration"} must be an object, got ${describeValue(raw)}`,
    {
      value: raw,
    },
  );
}

/** Rejects fields of `obj` that are not in `known`: a typo must not pass silently. */
export function rejectUnknown(
  obj: Record<string, unknown>,
  known: readonly string[],
  path: string,
) {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      const at = path ? `${path}.${key}` : key;
      throw new ConfigError(at, `Unknown field "${at}"; known fields: ${known.join(", ")}`, {
        value: obj[key],
      });
    }
  }
}

/**
 * The largest magnitude a number field takes when its bounds name no maximum (or no minimum):
 * the safe integers' bound. A setting past it (1e300) is no one's intent, and the arithmetic a
 * kind does with it (counts, sums, microseconds) would lose its integers or overflow.
 */
export const CONFIG_NUMBER_ABS_MAX = Number.MAX_SAFE_INTEGER;

/**
 * Reads an optional number field, checking its bounds (within ±CONFIG_NUMBER_ABS_MAX where they
 * name none); `fallback` when absent.
 */
export function readNumber(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  fallback: number,
  bounds: NumberBounds = {},
): number {
  const value = obj[key];
  if (value === undefined) return fallback;
  const at = path ? `${path}.${key}` : key;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ConfigError(
      at,
      `Field "${at}" must be a finite number, got ${describeValue(value)}`,
      {
        value,
      },
    );
  }
  if (bounds.integer && !Number.isInteger(value)) {
    throw new ConfigError(at, `Field "${at}" must be an integer, got ${value}`, { value });
  }
  if (
    bounds.min !== undefined && (bounds.exclusiveMin ? value <= bounds.min : value < bounds.min)
  ) {
    const op = bounds.exclusiveMin ? ">" : ">=";
    throw new ConfigError(at, `Field "${at}" must be ${op} ${bounds.min}, got ${value}`, { value });
  }
  const max = bounds.max ?? CONFIG_NUMBER_ABS_MAX;
  if (value > max) {
    throw new ConfigError(at, `Field "${at}" must be <= ${max}, got ${value}`, { value });
  }
  if (bounds.min === undefined && value < -CONFIG_NUMBER_ABS_MAX) {
    throw new ConfigError(
      at,
      `Field "${at}" must be >= ${-CONFIG_NUMBER_ABS_MAX}, got ${value}`,
      { value },
    );
  }
  return value;
}

/** Reads an optional string field; `fallback` when absent; `choices` restricts the values. */
export function readString(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  fallback: string,
  choices?: readonly string[],
): string {
  const value = obj[key];
  if (value === undefined) return fallback;
  const at = path ? `${path}.${key}` : key;
  if (typeof value !== "string") {
    throw new ConfigError(at, `Field "${at}" must be a string, got ${describeValue(value)}`, {
      value,
    });
  }
  if (choices && !choices.includes(value)) {
    throw new ConfigError(
      at,
      `Field "${at}" must be one of ${choices.join(", ")}, got ${describeValue(value)}`,
      { value },
    );
  }
  return value;
}

/** Reads an optional boolean field; `fallback` when absent. */
export function readBoolean(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  fallback: boolean,
): boolean {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  const at = path ? `${path}.${key}` : key;
  throw new ConfigError(at, `Field "${at}" must be true or false, got ${describeValue(value)}`, {
    value,
  });
}
