/**
 * The actor kinds troupe ships, by name (a host runs the kinds its configuration lists),
 * registered through the same door a user's kinds go through (kind/), and the portable math their
 * kernels and the feed generators share.
 */
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { anomalyActor } from "./anomaly/mod.ts";
import { barsActor } from "./bars/mod.ts";
import { coherenceActor } from "./coherence/mod.ts";
import { collapseActor } from "./collapse/mod.ts";
import { statsActor } from "./stats/mod.ts";
import { kindRegistry } from "./kind/mod.ts";

/** Every actor kind, by name. */
export const ACTOR_KINDS: Readonly<Record<string, AnyActorDefinition>> = kindRegistry([
  statsActor,
  anomalyActor,
  collapseActor,
  coherenceActor,
  barsActor,
]);

export { anomalyActor, barsActor, coherenceActor, collapseActor, statsActor };
/** The math kernels share, computed the same, bit for bit, on every runtime (see the file). */
export * from "./math/mod.ts";
export * from "./incidents/mod.ts";
export * from "./kind/mod.ts";
