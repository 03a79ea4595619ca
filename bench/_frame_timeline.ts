/**
 * The injector's record of a latency phase frame by frame (`_injector.ts --timeline PATH`): each
 * measured frame's send time on the wall clock and its latency, in order of sending, so that the
 * slow frames can be lined up against the stalls of the processes they crossed (`bench latency
 * --timeline DIR`). The percentiles sort the latencies and lose when each frame was sent; this
 * keeps it.
 */
import { writeFileSync } from "node:fs";
import { wallUs } from "./_wall_clock.ts";
import type { StallTimeline } from "./_stall_timeline.ts";

/** What a timeline file holds. */
export interface FrameTimelineFile {
  clock: "CLOCK_REALTIME";
  /** `[sent µs, latency µs]` a measured frame, in order of sending; latency -1: no answer. */
  frames: [number, number][];
  /** The stalls of the injector's receiving thread (the raw subscriber in a raw phase). */
  receiver: StallTimeline;
}

/** What `FrameTimeline.write` writes besides the latencies. */
export interface TimelineWrite {
  /** The first measured frame (the warm-up's are left out). */
  from: number;
  /** Frame i's send time, in this thread's `performance.now()` time. */
  sentMs: (i: number) => number;
  receiver: StallTimeline;
}

/** Latencies by frame index, written out with the frames' send times at the end of a phase. */
export class FrameTimeline {
  readonly #latencyUs: Float64Array;

  constructor(frames: number) {
    this.#latencyUs = new Float64Array(frames).fill(-1);
  }

  /** Frame `i` was answered after `latencyUs`. */
  answer(i: number, latencyUs: number): void {
    this.#latencyUs[i] = latencyUs;
  }

  /** Writes the frames from `w.from` on to `path`, with the receiving thread's stalls. */
  write(path: string, w: TimelineWrite): void {
    const { from, sentMs, receiver } = w;
    const frames: [number, number][] = [];
    for (let i = from; i < this.#latencyUs.length; i++) {
      const sent = sentMs(i);
      if (Number.isNaN(sent)) continue; // never sent: the phase ended early
      frames.push([wallUs(sent), Math.round(this.#latencyUs[i]! * 10) / 10]);
    }
    const file: FrameTimelineFile = { clock: "CLOCK_REALTIME", frames, receiver };
    writeFileSync(path, JSON.stringify(file));
  }
}
