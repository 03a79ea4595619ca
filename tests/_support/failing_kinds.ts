/**
 * Actor kinds that fail on purpose, for supervision tests: the stats kind under another name,
 * whose kernel throws on every frame, or only on a frame holding the value 666.
 */
import { statsActor, type StatsState } from "../../actors/stats/mod.ts";
import type { SampleFrame } from "../../protocol/mod.ts";

/** Kind "broken": every frame throws, so its instances are stopped after repeated failures. */
export const brokenKind = {
  ...statsActor,
  kind: "broken",
  kernel: {
    ...statsActor.kernel,
    step(): never {
      throw new Error("always broken");
    },
  },
};

/** Kind "flaky": a frame holding 666 throws ("kernel bug on 666"); every other one is stats. */
export const flakyKind = {
  ...statsActor,
  kind: "flaky",
  kernel: {
    ...statsActor.kernel,
    step(state: StatsState, frame: SampleFrame) {
      if (frame.v.includes(666)) throw new Error("kernel bug on 666");
      return statsActor.kernel.step(state, frame);
    },
  },
};
