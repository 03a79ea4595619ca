/**
 * A kind's configuration, declared as a schema of named fields with their defaults and bounds,
 * from which troupe derives both the default configuration and the parser that checks a
 * configuration when a host starts and when `troupe ctl` changes it. A bad value is refused with
 * the field's dotted path and the value, as troupe's own kinds refuse theirs.
 */
import {
  ConfigError,
  configObject,
  describeValue,
  readBoolean,
  readNumber,
  readString,
  rejectUnknown,
} from "../../protocol/mod.ts";

/** A number field: its default and bounds. */
export interface NumberField {
  readonly type: "number";
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

/** A string field: its default and, optionally, the values it may take. */
export interface StringField {
  readonly type: "string";
  readonly default: string;
  readonly choices?: readonly string[];
}

/** A boolean field. */
export interface BooleanField {
  readonly type: "boolean";
  readonly default: boolean;
}

/** A list of channel names (a group's members, the legs of a spread). */
export interface NamesField {
  readonly type: "names";
  readonly default: readonly string[];
  /** The most names it may hold; default NAMES_MAX. */
  readonly max?: number;
}

/** One field of a configuration schema. */
export type ConfigField = NumberField | StringField | BooleanField | NamesField;

/** A configuration schema: fields by name. */
export type ConfigSchema = Readonly<Record<string, ConfigField>>;

/** The configuration a schema describes. */
export type ConfigOf<S extends ConfigSchema> = {
  readonly [K in keyof S]: S[K] extends NumberField ? number
    : S[K] extends StringField ? string
    : S[K] extends BooleanField ? boolean
    : readonly string[];
};

/** Names a `names` field holds at most unless it says. */
export const NAMES_MAX = 1024;
/** Fields a schema may have at most. */
export const CONFIG_FIELDS_MAX = 64;

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The default configuration of `schema`. */
export function defaultConfigOf<S extends ConfigSchema>(schema: S): ConfigOf<S> {
  const config: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema)) {
    config[name] = field.type === "names" ? [...field.default] : field.default;
  }
  return config as ConfigOf<S>;
}

/**
 * `raw` checked against `schema`, each absent field taken from `base`; throws ConfigError naming
 * `path` and the field.
 */
export function parseConfigOf<S extends ConfigSchema>(
  schema: S,
  raw: unknown,
  base: ConfigOf<S>,
  path: string,
): ConfigOf<S> {
  const obj = configObject(raw, path);
  rejectUnknown(obj, Object.keys(schema), path);
  const out: Record<string, unknown> = {};
  const prev = base as Record<string, unknown>;
  for (const [name, field] of Object.entries(schema)) {
    switch (field.type) {
      case "number":
        out[name] = readNumber(obj, name, path, prev[name] as number, field);
        break;
      case "string":
        out[name] = readString(obj, name, path, prev[name] as string, field.choices);
        break;
      case "boolean":
        out[name] = readBoolean(obj, name, path, prev[name] as boolean);
        break;
      case "names":
        out[name] = readNames(obj, name, path, prev[name] as readonly string[], field);
        break;
    }
  }
  return out as ConfigOf<S>;
}

/** Checks a schema itself, when a kind is defined: its defaults must pass its own bounds. */
export function checkConfigSchema(schema: ConfigSchema, path: string): void {
  const names = Object.keys(schema);
  if (names.length > CONFIG_FIELDS_MAX) {
    throw new ConfigError(path, `${path} has ${names.length} fields, at most ${CONFIG_FIELDS_MAX}`);
  }
  for (const [name, field] of Object.entries(schema)) {
    if (!["number", "string", "boolean", "names"].includes(field?.type)) {
      throw new ConfigError(
        `${path}.${name}`,
        `${path}.${name}.type must be number, string, boolean or names, got ${
          describeValue(field?.type)
        }`,
      );
    }
  }
  const defaults = defaultConfigOf(schema);
  parseConfigOf(schema, defaults, defaults, `${path} (defaults)`);
}

function readNames(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  fallback: readonly string[],
  field: NamesField,
): readonly string[] {
  const value = obj[key];
  if (value === undefined) return fallback;
  const at = path ? `${path}.${key}` : key;
  const max = field.max ?? NAMES_MAX;
  if (!Array.isArray(value) || value.length > max) {
    throw new ConfigError(
      at,
      `Field "${at}" must be a list of at most ${max} channel names, got ${describeValue(value)}`,
      { value },
    );
  }
  value.forEach((name, i) => {
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new ConfigError(
        `${at}[${i}]`,
        `Field "${at}[${i}]" must be a name of 1 to 64 of A-Z a-z 0-9 _ -, got ${
          describeValue(name)
        }`,
        { value: name },
      );
    }
  });
  return Object.freeze([...value as string[]]);
}
