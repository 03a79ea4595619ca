/**
 * A steady synthetic feed for the benches that publish to JetStream under faults (`failover`,
 * `soak`): frames round-robin over the channels at a rate, each of `batch` samples, each with an
 * id that names it (`<channel>-<frame>`, the JetStream message id that keeps a retry stored once).
 */
import { encodeFrame } from "../protocol/mod.ts";
import { sleep } from "./_sleep.ts";

/** Options of {@link pacedFrames}. */
export interface PacedFramesOptions {
  /** Frames per second over all channels. */
  rate: number;
  channels: number;
  /** Channel `c` is named `${prefix}${c}`. */
  prefix: string;
  /** The envelope's source. */
  src: string;
  /** Samples per frame. */
  batch: number;
}

/** One frame of the feed: its channel, id and encoded bytes. */
export interface PacedFrame {
  channel: string;
  id: string;
  data: Uint8Array;
}

/** The feed's frames, each when it is due, while `keepOn()` holds. */
export async function* pacedFrames(
  o: PacedFramesOptions,
  keepOn: () => boolean,
): AsyncGenerator<PacedFrame> {
  const t0 = Date.now();
  for (let n = 0; keepOn(); n++) {
    const due = t0 + (n * 1000) / o.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const channel = `${o.prefix}${n % o.channels}`;
    const f = Math.floor(n / o.channels);
    const t = new Float64Array(o.batch), v = new Float64Array(o.batch);
    for (let i = 0; i < o.batch; i++) {
      t[i] = 1_700_000_000_000_000 + (f * o.batch + i) * 1000;
      v[i] = Math.sin(f + i);
    }
    const id = `${channel}-${f}`;
    yield {
      channel,
      id,
      data: encodeFrame({ channel, seq0: f * o.batch, t, v }, { id, src: o.src }),
    };
  }
}
