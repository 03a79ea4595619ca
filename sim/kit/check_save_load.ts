/**
 * The save-and-load check, after Akka's persistence test kit (which restarts an actor to test its
 * recovery): the same frames run twice, once straight and once with every instance saved to
 * snapshot bytes and loaded back after every frame, must publish the same bytes. A kernel whose
 * `save` forgets a field, or whose `load` rounds one, fails at the first frame where it shows.
 */
import type { AnyActorDefinition, SampleFrame } from "../../protocol/mod.ts";
import { bytesEqual } from "../../protocol/mod.ts";
import { KindCheckError } from "./kit_error.ts";
import { type KindRunOptions, runKind } from "./kind_run.ts";

/** Throws KindCheckError naming the first frame and output where save-then-load changes bytes. */
export function checkSaveLoad(
  def: AnyActorDefinition,
  frames: readonly SampleFrame[],
  options: Omit<KindRunOptions, "reload"> = {},
): { frames: number; outputs: number } {
  const straight = runKind(def, frames, options);
  const reloaded = runKind(def, frames, { ...options, reload: true });
  let outputs = 0;
  for (const [i, a] of straight.entries()) {
    const b = reloaded[i]!;
    const n = Math.max(a.outputs.length, b.outputs.length);
    for (let k = 0; k < n; k++) {
      const x = a.outputs[k], y = b.outputs[k];
      if (x === undefined || y === undefined || !bytesEqual(x.data, y.data)) {
        throw new KindCheckError(
          `${def.kind}: saving and loading the state changes what frame ${i} (channel ${
            frames[i]!.channel
          }, seq0 ${frames[i]!.seq0}) publishes: output ${k} ${
            x === undefined
              ? "appears only after a reload"
              : y === undefined
              ? `(${x.type ?? "columns"} on ${x.subject}) is missing after a reload`
              : `(${x.type ?? "columns"} on ${x.subject}) differs after a reload`
          }; check that save() writes every field of the state and load() reads it back exactly`,
        );
      }
      outputs++;
    }
  }
  return { frames: frames.length, outputs };
}
