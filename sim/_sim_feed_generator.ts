/**
 * The feed of a simulation, generated: the seeded market feed cut to the run's sample budget, frame
 * by frame as the log stores them, and the plan the simulator schedules the frames by. With
 * `duplicates` (the `duplicate` fault), the log also holds copies of frames it already holds, byte
 * for byte (a producer's retry: the same envelope id at a new sequence): now and then one of the
 * last few frames (`near`, well within an instance's window of recent input ids), and now and then
 * a frame of the same channel `FAR_FRAMES` frames of that channel back (`far`, past the window of
 * every instance that consumes it; the channel's first frame while it has fewer).
 */
import { encodeFrame, feedSubject, type SampleFrame } from "../protocol/mod.ts";
import { createFeed, type Feed } from "./feeds/mod.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import type { FeedSpec } from "./_sim_feed_source.ts";
import { Prng } from "./prng/mod.ts";

/** The chance that a copy of an earlier frame follows a frame, under the `duplicate` fault. */
export const DUPLICATE_P = 0.04;
/** How many of its channel's frames back a `far` copy's original is (past a 256-id window). */
export const FAR_FRAMES = 300;

/**
 * A copy in the plan: `near` copies the frame `back` frames of the feed before the copy (0: the
 * one right before); `far` copies a frame of the channel of the frame right before it, as far back
 * as FAR_FRAMES.
 */
export type PlannedCopy = { kind: "near"; back: number } | { kind: "far" };

/** The plan of a feed: the samples of each logged frame (0 for a copy), and the copies by seq. */
export interface FeedPlan {
  samples: number[];
  copies: Map<number, PlannedCopy>;
}

/**
 * The samples of each frame of `spec`, in log order: the market feed emits frames of `batch`
 * samples, and the last one is cut at the budget. The simulator schedules frames by it before
 * they exist; a generated frame of another size is an error. A copy counts 0 samples (it is
 * logged at the time of the frame before it).
 */
export function feedPlan(spec: FeedSpec): number[] {
  return planFeed(spec).samples;
}

/** The plan of `spec`: its frames' samples and, under the `duplicate` fault, its copies. */
export function planFeed(spec: FeedSpec): FeedPlan {
  const samples: number[] = [];
  const copies = new Map<number, PlannedCopy>();
  // Drawn from their own PRNG: a run without copies draws nothing, and its feed stays as it was.
  const rng = spec.duplicates ? new Prng(spec.seed).fork("duplicates") : undefined;
  for (let n = 0; n < spec.budget; n += spec.batch) {
    samples.push(Math.min(spec.batch, spec.budget - n));
    if (rng?.chance(DUPLICATE_P)) {
      copies.set(
        samples.length + 1,
        rng.chance(0.25) ? { kind: "far" } : {
          kind: "near",
          back: rng.int(4),
        },
      );
      samples.push(0);
    }
  }
  return { samples, copies };
}

/** The frames of `spec`, one at a time, encoded as the log stores them. */
export class FeedGenerator {
  readonly #spec: FeedSpec;
  readonly #plan: readonly number[];
  readonly #copies: ReadonlyMap<number, PlannedCopy>;
  /** Under the `duplicate` fault: every entry so far, and each channel's entries. */
  readonly #entries: FeedEntry[] = [];
  readonly #byChannel = new Map<string, FeedEntry[]>();
  #lastChannel = "";
  readonly #feed: Feed;
  #queue: SampleFrame[] = [];
  readonly #subjects = new Map<string, string>();
  #at = 0;
  #samples = 0;
  #seq = 0;

  constructor(spec: FeedSpec) {
    this.#spec = spec;
    const plan = planFeed(spec);
    this.#plan = plan.samples;
    this.#copies = plan.copies;
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
    const copy = this.#copies.get(this.#seq + 1);
    if (copy !== undefined) return this.#copy(copy);
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
    const entry = {
      seq,
      subject: this.#subject(frame.channel),
      data: encodeFrame(part, { id: `sim:${frame.channel}:${frame.seq0}`, src: "sim", seq }),
    };
    if (this.#spec.duplicates) this.#keep(entry, frame.channel);
    return entry;
  }

  #keep(entry: FeedEntry, channel: string): void {
    this.#entries.push(entry);
    this.#lastChannel = channel;
    let list = this.#byChannel.get(channel);
    if (!list) this.#byChannel.set(channel, list = []);
    list.push(entry);
  }

  /** The copy planned at the next sequence: an earlier frame's bytes, logged again. */
  #copy(copy: PlannedCopy): FeedEntry {
    let original: FeedEntry;
    if (copy.kind === "near") {
      original = this.#entries[Math.max(0, this.#entries.length - 1 - copy.back)]!;
    } else {
      const list = this.#byChannel.get(this.#lastChannel)!;
      original = list[Math.max(0, list.length - 1 - FAR_FRAMES)]!;
    }
    const seq = ++this.#seq;
    return { seq, subject: original.subject, data: original.data };
  }
}

/** Throws for a frame past the plan. */
export function checkPlanned(e: FeedEntry, plan: readonly number[]): void {
  if (e.seq > plan.length) {
    throw new RangeError(`The feed generated frame ${e.seq}, past its plan of ${plan.length}`);
  }
}
