/**
 * The registry of the actor kinds troupe ships, by name (a host runs the kinds its configuration
 * lists), registered through the same door a user's kinds go through (kind/). It is also the kinds
 * module a threaded host's threads load by URL (ACTOR_KINDS_MODULE, see runtime's kinds_module.ts):
 * `registry`, and the scan service a host runs beside `bars`. The incident stage (incidents/), the
 * alert sender (alerting/) and the portable math (math/) are entered through their own folders.
 */
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { anomalyActor } from "./anomaly/mod.ts";
import { barsActor } from "./bars/mod.ts";
import { coherenceActor } from "./coherence/mod.ts";
import { collapseActor } from "./collapse/mod.ts";
import { statsActor } from "./stats/mod.ts";
import { scanHostService } from "./scan/mod.ts";
import { kindRegistry } from "./kind/mod.ts";

/** Every actor kind, by name. */
export const ACTOR_KINDS: Readonly<Record<string, AnyActorDefinition>> = kindRegistry([
  statsActor,
  anomalyActor,
  collapseActor,
  coherenceActor,
  barsActor,
]);

/** The built-in kinds under the name a kinds module gives them. */
export const registry = ACTOR_KINDS;

/** The service a host thread runs beside the built-in kinds when asked: the scans over `bars`. */
export const hostService = scanHostService();

/** The URL of this module, for a threaded host to give its threads. */
export const ACTOR_KINDS_MODULE: URL = new URL("./mod.ts", import.meta.url);

export { anomalyActor, barsActor, coherenceActor, collapseActor, statsActor };
