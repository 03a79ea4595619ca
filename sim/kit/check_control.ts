/**
 * The control check: a configuration change (`troupe ctl --set`, the dashboard's thresholds) sent
 * while a kind runs is applied, at the sample it comes before, and kept. The frames run with the
 * change sent before frame `at`, and
 *
 * - the change must move what is published from there on (else `configure` did not apply it:
 *   pick a change and frames where it matters);
 * - the same change in a run of one-sample frames, sent before the same sample, must make the same
 *   findings (a change takes effect between samples, whatever the framing);
 * - the same run with every instance saved and loaded after every frame and after the change must
 *   publish the same bytes (the changed setting is in what `save` writes and `load` reads back).
 */
import {
  type AnyActorDefinition,
  bytesEqual,
  decodeEnvelope,
  encodeValue,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { KindCheckError } from "./kit_error.ts";
import { type KindRunOptions, type KindStep, runKind } from "./kind_run.ts";
import { describeDifference, firstDifference, outputCount } from "./first_difference.ts";

/** Options of `checkControl`. */
export interface CheckControlOptions extends Omit<KindRunOptions, "reload" | "controls"> {
  /** The fields that change, as `troupe ctl --set` gives them. */
  change: Record<string, unknown>;
  /** The index of the frame the change comes before; default the middle frame. */
  at?: number;
}

/**
 * Throws KindCheckError when a control change sent before frame `at` changes nothing, takes
 * effect differently in frames of one sample, or is lost by save and load; returns the outputs
 * compared.
 */
export function checkControl(
  def: AnyActorDefinition,
  frames: readonly SampleFrame[],
  options: CheckControlOptions,
): { outputs: number } {
  const { change, at = Math.floor(frames.length / 2), ...run } = options;
  if (!Number.isInteger(at) || at < 1 || at >= frames.length) {
    throw new RangeError(
      `checkControl(): "at" must be a frame index from 1 to ${frames.length - 1}, got ${at}`,
    );
  }
  const said = `the change ${JSON.stringify(change)} before frame ${at}`;
  const changed = runKind(def, frames, { ...run, controls: [{ before: at, change }] });
  const unchanged = runKind(def, frames, run);
  if (firstDifference(changed.slice(at), unchanged.slice(at)) === undefined) {
    throw new KindCheckError(
      `${def.kind}: ${said} changes nothing it publishes from there on: check that configure() ` +
        "copies the changed setting into the state the step reads (or choose a change and " +
        "frames where it matters)",
    );
  }

  const single = oneSampleFrames(frames);
  const singleAt = frames.slice(0, at).reduce((n, f) => n + f.v.length, 0);
  const singleRun = runKind(def, single, { ...run, controls: [{ before: singleAt, change }] });
  const a = findingsOf(def, changed), b = findingsOf(def, singleRun);
  for (const stream of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(stream) ?? [], y = b.get(stream) ?? [];
    for (let k = 0; k < Math.max(x.length, y.length); k++) {
      const p = x[k], q = y[k];
      if (p && q && p.type === q.type && p.ts === q.ts && bytesEqual(p.body, q.body)) continue;
      const say = (f: Seen | undefined) => f ? `${f.type} at ts ${f.ts}` : "nothing";
      throw new KindCheckError(
        `${def.kind}: ${said} takes effect differently in frames of one sample: finding ${k} ` +
          `of ${stream} is ${say(p)} in the frames given but ${say(q)} in frames of one ` +
          "sample; apply a change from the next sample on, not per frame",
      );
    }
  }

  const reloaded = runKind(def, frames, {
    ...run,
    controls: [{ before: at, change }],
    reload: true,
  });
  const d = firstDifference(changed, reloaded);
  if (d !== undefined) {
    throw new KindCheckError(
      `${def.kind}: ${said} does not survive save and load: ${
        describeDifference(d, frames, "after a reload")
      }; check that save() writes the setting configure() changed and load() reads it back ` +
        "(rather than its default)",
    );
  }
  return { outputs: outputCount(changed) };
}

/** Each frame cut into frames of one sample each. */
function oneSampleFrames(frames: readonly SampleFrame[]): SampleFrame[] {
  return frames.flatMap((f) =>
    Array.from(f.v, (_, i) => ({
      channel: f.channel,
      seq0: f.seq0 + i,
      t: f.t.subarray(i, i + 1),
      v: f.v.subarray(i, i + 1),
    }))
  );
}

interface Seen {
  type: string;
  ts: number;
  body: Uint8Array;
}

/** The findings of a run by instance: type, time and body (ids derive from the framing). */
function findingsOf(def: AnyActorDefinition, steps: readonly KindStep[]): Map<string, Seen[]> {
  const types = new Set((def.findings ?? []).map((f) => f.type));
  const byStream = new Map<string, Seen[]>();
  for (const step of steps) {
    for (const out of step.outputs) {
      if (out.type === undefined || !types.has(out.type)) continue;
      const env = decodeEnvelope(out.data);
      const list = byStream.get(out.stream) ?? [];
      list.push({ type: env.type, ts: env.ts, body: encodeValue(env.body) });
      byStream.set(out.stream, list);
    }
  }
  return byStream;
}
