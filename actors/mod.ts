/**
 * The actor kinds troupe ships, by name. A host runs the kinds its configuration lists.
 */
import type { AnyActorDefinition } from "./runtime/actor_definition.ts";
import { statsActor } from "./stats/mod.ts";

/** Every actor kind, by name. */
export const ACTOR_KINDS: Readonly<Record<string, AnyActorDefinition>> = {
  stats: statsActor,
};

export { statsActor };
