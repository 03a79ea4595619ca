/**
 * Picks where a run's feed and reference come from (see _sim_feed_source.ts): the shared worker
 * when it can rebuild the run's kinds and configuration, else the same work in process.
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import { LocalSource } from "./_sim_feed_local.ts";
import { referenceThread, ThreadSource } from "./_sim_feed_thread.ts";
import type { FeedSource, FeedSpec, ReferenceSetup } from "./_sim_feed_source.ts";

/**
 * The feed and reference source of a run: on the shared worker when `threads` and the actor kinds
 * and configuration can be rebuilt there, else in process.
 */
export async function feedSource(
  spec: FeedSpec,
  setup: ReferenceSetup,
  threads: boolean,
): Promise<FeedSource> {
  if (threads && setup.actors.every((a) => ACTOR_KINDS[a.kind] === a) && cloneable(setup.config)) {
    const worker = await referenceThread();
    if (worker) return new ThreadSource(worker, spec, setup);
  }
  return new LocalSource(spec, setup);
}

function cloneable(x: unknown): boolean {
  try {
    structuredClone(x);
    return true;
  } catch {
    return false;
  }
}
