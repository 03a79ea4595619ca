/**
 * The `--actor` option's reading: an unknown actor kind is a usage error (BenchOptionError) naming
 * the known kinds. Every other option is read by its benchmark's table (`_option_table.ts`).
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { BenchOptionError } from "./_bench_option_error.ts";

/**
 * The actor kind registered under `name` in ACTOR_KINDS; a BenchOptionError naming the known kinds
 * otherwise.
 */
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
