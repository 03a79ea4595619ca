/**
 * Test support for the framing property ("framing never changes a verdict"): the same samples cut
 * into frames of a given size, each as the journaled input record an ActorInstance applies.
 */
import { encodeFrame, type InputRecord } from "../../protocol/mod.ts";

/** One frame of a series as an input record, with the journal position to apply it at. */
export interface FramedInput {
  record: InputRecord;
  pos: number;
}

/**
 * The samples `t`, `v` of channel "c" cut into frames of `size` samples (the last one shorter),
 * in order, as records on `troupe.feed.f.c` with positions 1, 2, ...
 */
export function* framedInputs(
  t: Float64Array,
  v: Float64Array,
  size: number,
): Generator<FramedInput> {
  for (let i = 0, k = 0; i < v.length; i += size, k++) {
    const end = Math.min(v.length, i + size);
    const frame = { channel: "c", seq0: i, t: t.subarray(i, end), v: v.subarray(i, end) };
    const payload = encodeFrame(frame, { id: `in-${k}`, src: "test" });
    const record: InputRecord = {
      kind: "frame",
      srcPos: k + 1,
      subject: "troupe.feed.f.c",
      payload,
    };
    yield { record, pos: k + 1 };
  }
}
