/**
 * Test support for tests of where a host's input resumes: a channel's frames of samples, and the
 * count of samples its stats instance took, waited for.
 */
import type { launchHost } from "../../actors/runtime/mod.ts";
import { type StatsState, statsSummary } from "../../actors/stats/mod.ts";
import { encodeFrame } from "../../protocol/mod.ts";

/** Samples a frame. */
export const FRAME_SAMPLES = 10;

/** Frame `f` of `channel`: FRAME_SAMPLES samples a millisecond apart, its id `<channel>-<f>`. */
export function sineFrame(channel: string, f: number): Uint8Array {
  const n = FRAME_SAMPLES;
  const t = new Float64Array(n).map((_, i) => 1_700_000_000_000_000 + (f * n + i) * 1000);
  const v = new Float64Array(n).map((_, i) => Math.sin(f * n + i));
  return encodeFrame({ channel, seq0: f * n, t, v }, { id: `${channel}-${f}`, src: "t" });
}

/** What `launchHost` resolves to. */
export type Launched = Awaited<ReturnType<typeof launchHost>>;

/** The stats instance's sample count, once it reaches `count` (or after 15 s). */
export async function statsCount(
  launched: Launched,
  channel: string,
  count: number,
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const inst = launched.host.instance("stats", channel);
    const n = inst ? statsSummary(inst.kernelState as StatsState).count : 0;
    if (n >= count || Date.now() - t0 > 15_000) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
}
