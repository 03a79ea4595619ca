/**
 * Actor failures for the simulator: wraps an actor kind so that its kernel throws, once, on the
 * frames the seed picks, the way a transient bug would. The host must restart the instance from
 * its snapshot and journal (where the failed input already is), apply the input again (it does not
 * fail twice) and carry on, losing nothing and applying nothing twice. The choice is a hash of the
 * seed, the kind and the frame, so it does not depend on the order inputs are seen in; which frames
 * already failed is shared by every host of one run, so a replay never fails where the live apply
 * did.
 */
import type { AnyActorDefinition } from "../actors/runtime/actor_definition.ts";
import { hashString } from "./prng.ts";

/** Options of `flakyActor`. */
export interface FlakyOptions {
  seed: number;
  /** Probability that a frame's first step throws. */
  failP: number;
  /** The frames that already failed, shared by every host of a run. */
  failed: Set<string>;
  /** Told about every failure it causes. */
  onFail?: (what: string) => void;
}

/** `def` with a kernel whose `step` throws once on the frames the seed picks. */
export function flakyActor(def: AnyActorDefinition, options: FlakyOptions): AnyActorDefinition {
  const threshold = options.failP * 0x100000000;
  const kernel = def.kernel;
  const wrapped: AnyActorDefinition["kernel"] = {
    init: (config, key) => kernel.init(config, key),
    save: (state) => kernel.save(state),
    load: (bytes) => kernel.load(bytes),
    step(state: unknown, frame) {
      const what = `${def.kind}:${frame.channel}:${frame.seq0}`;
      if (!options.failed.has(what) && hashString(`${options.seed}:${what}`) < threshold) {
        options.failed.add(what);
        options.onFail?.(what);
        throw new Error(`simulated failure of the ${def.kind} kernel on ${what}`);
      }
      return kernel.step(state, frame);
    },
  };
  if (kernel.configure) wrapped.configure = (state, config) => kernel.configure!(state, config);
  return { ...def, kernel: wrapped };
}
