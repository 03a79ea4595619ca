/**
 * Actor kinds for the threaded replay tests, as a module a replay worker thread can load
 * (`registryModule`): `stats`; `boom`, a copy of it whose kernel cannot start an instance for
 * channel SYM004 (a bug outside the host's supervision, so it fails the thread that runs it); and
 * `badroute`, a copy whose routing throws on SYM004.
 */
import type { AnyActorDefinition } from "../../protocol/mod.ts";
import { statsActor } from "../../actors/stats/mod.ts";

/** The channel `boom` and `badroute` fail on. */
export const BOOM_CHANNEL = "SYM004";

export const registry: Readonly<Record<string, AnyActorDefinition>> = {
  stats: statsActor,
  boom: {
    ...statsActor,
    kind: "boom",
    kernel: {
      ...statsActor.kernel,
      init(config, key) {
        if (key === BOOM_CHANNEL) throw new Error(`boom cannot start an instance for ${key}`);
        return statsActor.kernel.init(config, key);
      },
    },
  },
  badroute: {
    ...statsActor,
    kind: "badroute",
    route: (channel: string) => {
      if (channel === BOOM_CHANNEL) throw new Error(`badroute cannot route channel ${channel}`);
      return [channel];
    },
  },
};
