/**
 * A benchmark's options: parsed strictly, a bad number or an unknown actor kind a usage error
 * (BenchOptionError) naming the option and the value.
 */
import { parseArgs } from "node:util";
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { BenchOptionError } from "./_bench.ts";
import { checkNumber, type NumberBounds } from "./_option_table.ts";

/** The option specs `parseOptions` accepts: every option takes a value. */
export type OptionSpecs = Record<string, { type: "string" }>;

/** Parses a benchmark's options; an unknown option or a stray argument is a BenchOptionError. */
export function parseOptions(
  args: string[],
  options: OptionSpecs,
): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    return values as Record<string, string | undefined>;
  } catch (err) {
    throw new BenchOptionError(
      (err as Error).message.replace(/\. To specify a positional.*$/s, ""),
    );
  }
}

export type { NumberBounds };

/** Reads numeric option `name`; a value that is not a number within bounds is a BenchOptionError. */
export function numberOption(
  values: Record<string, string | undefined>,
  name: string,
  fallback: number,
  bounds: NumberBounds = {},
): number {
  const raw = values[name];
  return raw === undefined ? fallback : checkNumber(name, raw, bounds);
}

/** The actor kind registered under `name` in ACTOR_KINDS; a BenchOptionError naming the known kinds otherwise. */
export function actorKind(name: string): AnyActorDefinition {
  const def = Object.hasOwn(ACTOR_KINDS, name) ? ACTOR_KINDS[name] : undefined;
  if (!def) {
    throw new BenchOptionError(
      `Option --actor names an unknown actor kind "${name}"; known kinds: ${
        Object.keys(ACTOR_KINDS).sort().join(", ")
      }`,
    );
  }
  return def;
}
