/**
 * A recording made without a cluster: the frames a kind is given and what it publishes for them,
 * written as `troupe record` writes a live session, so that a test can keep a golden recording of
 * a kind's verdicts and `checkReplay` it after every change.
 */
import {
  type AnyActorDefinition,
  encodeFrame,
  feedSubject,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { RecordingWriter } from "../recording/mod.ts";
import { type KindRunOptions, runKind } from "./kind_run.ts";

/**
 * Writes to `path` a recording of `def` run over `frames` (each frame then its outputs, at the
 * time of its last sample); returns the outputs written.
 */
export function recordKind(
  path: string,
  def: AnyActorDefinition,
  frames: readonly SampleFrame[],
  options: Omit<KindRunOptions, "reload"> = {},
): { outputs: number } {
  const feed = options.feed ?? "test";
  const config = options.config ?? {};
  const writer = RecordingWriter.create(path, {
    source: "troupe/testing recordKind",
    config: { actors: { [def.kind]: config } },
  });
  let outputs = 0;
  try {
    const steps = runKind(def, frames, options);
    for (const [i, frame] of frames.entries()) {
      const tUs = frame.t[frame.t.length - 1] ?? 0;
      const payload = encodeFrame(frame, { id: `in-${i}`, src: "kit" });
      writer.append(feedSubject(feed, frame.channel), tUs, payload);
      for (const out of steps[i]!.outputs) {
        writer.append(out.subject, tUs, out.data);
        outputs++;
      }
    }
  } finally {
    writer.close();
  }
  return { outputs };
}
