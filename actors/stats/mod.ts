/**
 * The `stats` actor: per channel, running count, mean, variance, min, max and rate, published
 * every N samples on `troupe.out.stats.<channel>`.
 */
import { configObject, readNumber, rejectUnknown } from "../../protocol/mod.ts";
import type { ActorDefinition } from "../../protocol/mod.ts";
import { statsHeldBytes } from "../kind/mod.ts";
import {
  describeStats,
  type StatsConfig,
  statsKernel,
  type StatsResult,
  type StatsState,
} from "./kernel.ts";
import { statsFrameEmits, statsMachine } from "./machine.ts";

export type { StatsConfig, StatsResult, StatsState, StatsSummary } from "./kernel.ts";
export { describeStats, statsKernel, statsSummary } from "./kernel.ts";
export {
  type StatsEmitted,
  statsEmitted,
  statsFrameEmits,
  type StatsFrameEvent,
  statsMachine,
} from "./machine.ts";

/** The stats actor kind. */
export const statsActor: ActorDefinition<StatsState, StatsConfig, StatsResult> = {
  kind: "stats",
  // 3: publications fall on the sample that completes every_samples, whatever the framing (2: the
  // kernel counted the samples since the last publication, per frame).
  version: 3,
  defaultConfig: { every_samples: 1000 },
  parseConfig(raw, base, path) {
    const obj = configObject(raw, path);
    rejectUnknown(obj, ["every_samples"], path);
    return {
      every_samples: readNumber(obj, "every_samples", path, base.every_samples, {
        min: 1,
        integer: true,
      }),
    };
  },
  route: (channel) => [channel],
  // Running moments are what a feed with no store of its own lacks (a market's ticks); a service
  // metric's series is kept by the Prometheus it comes from, which gives them over any window
  // (`avg_over_time`, `stddev_over_time`, ...), and nothing troupe pages on reads these. A host fed
  // service metrics runs stats only where it is asked to, and spares each channel an instance
  // (configuration.md).
  feeds: "markets",
  heldBytes: statsHeldBytes,
  kernel: statsKernel,
  machine: statsMachine,
  // Only frames in which a publication fell reach the machine: it has nothing to do on others.
  frameEvent: (publications) =>
    publications.length > 0 ? { type: "frame", publications } : undefined,
  // Once live, the machine's frame event only emits: the host emits for it.
  frameEmits: statsFrameEmits,
  describeState: describeStats,
};
