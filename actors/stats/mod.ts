/**
 * The `stats` actor: per channel, running count, mean, variance, min, max and rate, published
 * every N samples on `troupe.out.stats.<channel>`.
 */
import { configObject, readNumber, rejectUnknown, type SampleFrame } from "../../protocol/mod.ts";
import type { ActorDefinition } from "../../protocol/mod.ts";
import { type StatsConfig, statsKernel, type StatsState, type StatsSummary } from "./kernel.ts";
import { statsMachine } from "./machine.ts";

export type { StatsConfig, StatsState, StatsSummary } from "./kernel.ts";
export { statsKernel } from "./kernel.ts";
export { type StatsEmitted, statsMachine } from "./machine.ts";

/** The stats actor kind. */
export const statsActor: ActorDefinition<StatsState, StatsConfig, StatsSummary> = {
  kind: "stats",
  // 2: the kernel counts the samples since the last publication (was the machine's context).
  version: 2,
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
  kernel: statsKernel,
  machine: statsMachine,
  // Only frames that complete `every_samples` reach the machine: it has nothing to do on others.
  frameEvent: (summary, frame: SampleFrame) =>
    summary.due
      ? {
        type: "frame",
        samples: frame.v.length,
        ts: Math.round(frame.t[frame.t.length - 1] ?? 0),
        summary,
      }
      : undefined,
};
