/**
 * What `troupe bench kernel-bytes` and `channel-bytes` feed a channel: the remote-write bench's
 * series (a slow wave, each channel at its own phase), one sample every 15 s unless told another
 * step, and the channel names its receiver gives them (`seriesChannel` of the bench's label sets).
 */
import { seriesChannel } from "../protocol/prometheus/mod.ts";

const T0_MS = Date.UTC(2024, 0, 1);
/** Prometheus's usual scrape interval, the remote-write bench's. */
export const STEP_MS = 15_000;

/**
 * Channel `c`'s sample `i` (time in µs), `stepMs` after its sample before, as `bench remote-write`
 * sends series `c` every `--detect-interval-s`.
 */
export function frameSample(c: number, i: number, stepMs = STEP_MS): { t: number; v: number } {
  const tMs = T0_MS + i * stepMs;
  return { t: tMs * 1000, v: 50 + 10 * Math.sin((tMs / 1000 + c * 7) / 30) };
}

/** The channel the remote-write bench's receiver names series `c` of its first shard. */
export function channelNameOf(c: number): string {
  return seriesChannel([
    { name: "__name__", value: `bench_metric_${c % 40}_seconds` },
    { name: "instance", value: `host-0-${Math.floor(c / 40)}:9100` },
    { name: "job", value: "bench" },
    { name: "zone", value: `z${c % 3}` },
  ]);
}
