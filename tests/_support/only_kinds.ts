/**
 * Test support: a host config's `actors` section that runs only the kinds given (a host runs
 * every kind unless its section says `"enabled": false`).
 */
import { ACTOR_KINDS } from "../../actors/mod.ts";

/** `actors` with these kinds' sections, and every other kind turned off. */
export function onlyKinds(actors: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kind of Object.keys(ACTOR_KINDS)) out[kind] = actors[kind] ?? { enabled: false };
  return out;
}
