/**
 * The save-and-load check, after Akka's persistence test kit (which restarts an actor to test its
 * recovery): the same frames run twice, once straight and once with every instance saved to
 * snapshot bytes and loaded back after every frame, must publish the same bytes. It runs under the
 * configuration given (the defaults when none) and again under one with every setting it can move
 * off its default (`offDefaultConfig`), so that a `load` that puts back a default shows. A kernel
 * whose `save` forgets a field, or whose `load` rounds one, fails at the first frame where it
 * shows; a difference that a second straight run shows too is state kept outside the kernel's
 * state, and is said so.
 */
import type { AnyActorDefinition, SampleFrame } from "../../protocol/mod.ts";
import { KindCheckError } from "./kit_error.ts";
import { type KindRunOptions, runKind } from "./kind_run.ts";
import { describeDifference, firstDifference, outputCount } from "./first_difference.ts";
import { offDefaultConfig } from "./off_default_config.ts";

/** The hint of a difference between two straight runs of the same frames. */
export const OUTSIDE_STATE_HINT = "the kind keeps state outside what init() returns (a " +
  "module-level counter or cache, or a value drawn from Math.random or Date.now when the module " +
  "loaded): keep every value a step reads in the kernel's state, and draw randomness from " +
  "ctx.random(seq)";

/**
 * Throws KindCheckError naming the first frame and output where save-then-load changes bytes,
 * under the configuration given and under one off the defaults; returns what it compared.
 */
export function checkSaveLoad(
  def: AnyActorDefinition,
  frames: readonly SampleFrame[],
  options: Omit<KindRunOptions, "reload"> = {},
): { frames: number; outputs: number; offDefault: string[] } {
  const off = offDefaultConfig(def);
  let outputs = saveLoadUnder(def, frames, options, undefined);
  if (off.fields.length > 0) {
    const config = { ...(options.config as Record<string, unknown> | undefined), ...off.config };
    outputs += saveLoadUnder(def, frames, { ...options, config }, off.fields);
  }
  return { frames: frames.length, outputs, offDefault: off.fields };
}

/** One configuration's straight and reloaded runs, compared; returns the outputs compared. */
function saveLoadUnder(
  def: AnyActorDefinition,
  frames: readonly SampleFrame[],
  options: Omit<KindRunOptions, "reload">,
  offFields: string[] | undefined,
): number {
  const straight = runKind(def, frames, options);
  const reloaded = runKind(def, frames, { ...options, reload: true });
  const d = firstDifference(straight, reloaded);
  if (d === undefined) return outputCount(straight);
  const again = firstDifference(straight, runKind(def, frames, options));
  if (again !== undefined) {
    throw new KindCheckError(
      `${def.kind}: two straight runs of the same frames publish different bytes at ${
        describeDifference(again, frames, "in the second run")
      }; ${OUTSIDE_STATE_HINT}`,
    );
  }
  const under = offFields === undefined
    ? ""
    : ` under settings off their defaults (${
      offFields.map((f) => `${f} ${JSON.stringify((options.config as Record<string, unknown>)[f])}`)
        .join(", ")
    })`;
  throw new KindCheckError(
    `${def.kind}: saving and loading the state changes what it publishes${under}: ${
      describeDifference(d, frames, "after a reload")
    }; ${
      offFields === undefined
        ? "check that save() writes every field of the state and load() reads it back exactly"
        : "the defaults pass, so check that load() reads each setting back from the bytes " +
          "save() wrote rather than taking its default, and that save() writes it"
    }`,
  );
}
