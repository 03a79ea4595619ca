/**
 * Test support for the replay tests of recordings begun mid-session: the frames of one channel,
 * one sample each, that a stats instance turns into one output each.
 */
import { encodeFrame } from "../../protocol/mod.ts";

/**
 * Frame `i` of `channel` (`a` unless given): one sample, `i` ms after a fixed start, of `i % 7`,
 * id `f-<channel>-<i>`.
 */
export function oneSampleFrame(i: number, channel = "a"): Uint8Array {
  const t = new Float64Array([1_700_000_000_000_000 + i * 1000]);
  return encodeFrame({ channel, seq0: i, t, v: new Float64Array([i % 7]) }, {
    id: `f-${channel}-${i}`,
    src: "test",
  });
}
