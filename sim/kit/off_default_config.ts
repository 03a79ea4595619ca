/**
 * A configuration with every field the kit can move off its default, made from the kind's own
 * defaults and checked by its own parser (the schema's bounds, integers, choices): a `load` that
 * puts back a default instead of what `save` wrote only shows under settings that are not the
 * defaults, which a test that passes none never tries.
 */
import type { AnyActorDefinition } from "../../protocol/mod.ts";

/** The fields moved off their defaults, and the configuration that holds them all. */
export interface OffDefaultConfig {
  config: Record<string, unknown>;
  /** The fields moved, in the order of the defaults. */
  fields: string[];
}

/** The values a number field tries, in order, the first its parser takes winning. */
function numberCandidates(d: number): number[] {
  return [d * 2 + 1, d + 1, d * 1.5, d / 2, d - 1, d + 0.5, 1, 0, 2, 0.5, -1];
}

/**
 * `def`'s default configuration with each number and boolean field moved off its default to a
 * value its parser takes (fields it cannot move, such as lists of names, keep theirs).
 */
export function offDefaultConfig(def: AnyActorDefinition): OffDefaultConfig {
  const defaults = def.defaultConfig as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  const fields: string[] = [];
  const takes = (patch: Record<string, unknown>) => {
    try {
      def.parseConfig(patch, def.defaultConfig, `${def.kind} config`);
      return true;
    } catch {
      return false;
    }
  };
  for (const [field, value] of Object.entries(defaults ?? {})) {
    const candidates: unknown[] = typeof value === "number"
      ? numberCandidates(value).filter((n) => Number.isFinite(n) && n !== value)
      : typeof value === "boolean"
      ? [!value]
      : [];
    for (const candidate of candidates) {
      // Each field moves only as far as the others, already moved, let it.
      if (takes({ ...config, [field]: candidate })) {
        config[field] = candidate;
        fields.push(field);
        break;
      }
    }
  }
  return { config, fields };
}
