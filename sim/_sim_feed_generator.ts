/**
 * The feed of a simulation, generated: the seeded market feed cut to the run's sample budget, frame
 * by frame as the log stores them, and the plan the simulator schedules the frames by.
 */
import { encodeFrame, feedSubject, type SampleFrame } from "../protocol/mod.ts";
import { createFeed, type Feed } from "./feeds/mod.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import type { FeedSpec } from "./_sim_feed_source.ts";

/**
 * The samples of each frame of `spec`, in log order: the market feed emits frames of `batch`
 * samples, and the last one is cut at the budget. The simulator schedules frames by it before
 * they exist; a generated frame of another size is an error.
 */
export function feedPlan(spec: FeedSpec): number[] {
  const out: number[] = [];
  for (let samples = 0; samples < spec.budget; samples += spec.batch) {
    out.push(Math.min(spec.batch, spec.budget - samples));
  }
  return out;
}

/** The frames of `spec`, one at a time, encoded as the log stores them. */
export class FeedGenerator {
  readonly #spec: FeedSpec;
  readonly #plan: readonly number[];
  readonly #feed: Feed;
  #queue: SampleFrame[] = [];
  readonly #subjects = new Map<string, string>();
  #at = 0;
  #samples = 0;
  #seq = 0;

  constructor(spec: FeedSpec) {
    this.#spec = spec;
    this.#plan = feedPlan(spec);
    this.#feed = createFeed("market", {
      seed: spec.seed,
      channels: spec.channels,
      batch: spec.batch,
      volume: false,
    });
  }

  /** Frames generated so far. */
  get count(): number {
    return this.#seq;
  }

  /** The feed subject of `channel`, made once per channel. */
  #subject(channel: string): string {
    let subject = this.#subjects.get(channel);
    if (subject === undefined) {
      this.#subjects.set(channel, subject = feedSubject("market", channel));
    }
    return subject;
  }

  /** The next frame, or undefined once the budget is spent. */
  next(): FeedEntry | undefined {
    if (this.#samples >= this.#spec.budget) return undefined;
    if (this.#at >= this.#queue.length) {
      this.#queue = this.#feed.next();
      this.#at = 0;
    }
    const frame = this.#queue[this.#at++]!;
    const n = Math.min(frame.t.length, this.#spec.budget - this.#samples);
    const part = n === frame.t.length ? frame : {
      channel: frame.channel,
      seq0: frame.seq0,
      t: frame.t.subarray(0, n),
      v: frame.v.subarray(0, n),
    };
    const seq = ++this.#seq;
    if (this.#plan[seq - 1] !== n) {
      throw new Error(
        `The market feed's frame ${seq} holds ${n} samples; the simulator planned ${
          this.#plan[seq - 1]
        }`,
      );
    }
    this.#samples += n;
    return {
      seq,
      subject: this.#subject(frame.channel),
      data: encodeFrame(part, { id: `sim:${frame.channel}:${frame.seq0}`, src: "sim", seq }),
    };
  }
}

/** Throws for a frame past the plan. */
export function checkPlanned(e: FeedEntry, plan: readonly number[]): void {
  if (e.seq > plan.length) {
    throw new RangeError(`The feed generated frame ${e.seq}, past its plan of ${plan.length}`);
  }
}
