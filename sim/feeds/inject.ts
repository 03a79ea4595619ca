/**
 * The injector: publishes a feed's frames to a Bus on `troupe.feed.<feed>.<channel>`, paced to a
 * target rate in samples per second. Pacing is a token bucket on an absolute schedule: sample n is
 * due at `n / rate` seconds after the start, so the timer's coarseness, garbage collection and slow
 * flushes are made up by the frames that follow (the rate does not drift), while a stall longer
 * than `burstS` is forgiven rather than repaid in one flood. Every `flushEveryFrames` frames it
 * awaits `bus.flush()`, so a slow server slows the injector instead of filling memory. The clock is
 * passed in: on a VirtualClock a run is exact and instant.
 */
import type { Bus } from "../../protocol/mod.ts";
import {
  ConfigError,
  describeValue,
  encodeFrame,
  feedSubject,
  FRAME_SAMPLES_MAX_DEFAULT,
  isValidName,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { setImmediate } from "node:timers";
import { type Clock, type Sleeper, SystemClock } from "../clock.ts";
import type { Feed } from "./feed.ts";

/**
 * Where frames go when they must be acknowledged (JetStream): `publish` resolves once the frame is
 * under way (waiting while too many await their acknowledgement), `drain` once every frame is
 * acknowledged; either rejects when a frame was given up. A frame sent again keeps its id.
 */
export interface FramePublisher {
  publish(subject: string, data: Uint8Array, id: string, samples: number): Promise<void>;
  drain(): Promise<void>;
}

/** Options of `inject`. */
export interface InjectOptions {
  /** Target samples per second, over all channels. */
  rate: number;
  /**
   * Seconds to run: the run publishes `round(rate * durationS)` samples (the last frame is cut to
   * fit), fewer if a finite feed ends first. `Infinity` runs until the feed ends or `signal`
   * aborts.
   */
  durationS: number;
  /**
   * Samples per published frame at most: the feed's frames are split to fit. Default: the feed's
   * batch.
   */
  batch?: number;
  /** The `<feed>` token of the subjects. Default: the feed's name. */
  feedName?: string;
  /** The envelopes' producer. Default "inject". */
  src?: string;
  /**
   * The run's identity, a subject-token-like name: frame ids are `<src>:<run>:<channel>:<seq0>`.
   * A frame sent again within the run (a retry) keeps its id and is dropped as a duplicate; a run
   * with another id is new data, counted whatever its seed or times. Default: `r` and the clock's
   * time at the start in base 36, so every run is new (and a run on a VirtualClock is exact).
   */
  run?: string;
  /** Called about every `progressEveryS` seconds and once at the end. */
  onProgress?(sentSamples: number, elapsedS: number): void;
  /** Default 0.1. */
  progressEveryS?: number;
  /** Awaits `bus.flush()` after this many frames (and after 1 MiB). Default 64. */
  flushEveryFrames?: number;
  /**
   * How far behind schedule the injector may fall and still catch up: debt beyond this is forgiven
   * instead of repaid in one flood. Default 1 s.
   */
  burstS?: number;
  /** Stops the run early (the result says `aborted`). */
  signal?: AbortSignal;
  /**
   * Publishes the frames with acknowledgements instead of `bus.publish` (at most once on core
   * NATS); the run ends once every frame is acknowledged. Default: none.
   */
  publisher?: FramePublisher;
  /** Default: the SystemClock. */
  clock?: Clock & Sleeper;
}

/** What a run did. */
export interface InjectResult {
  /** The run's identity (the `run` option, or the default one made at the start). */
  run: string;
  samples: number;
  frames: number;
  bytes: number;
  /**
   * From the start to the end of the schedule (or the last publish, if later) and the final flush.
   */
  elapsedS: number;
  /** samples / elapsedS. */
  achievedRate: number;
  askedRate: number;
  /**
   * Schedule time given up because the injector fell more than `burstS` behind (0 when it kept up).
   */
  forgivenS: number;
  /** Why the run ended. */
  stopped: "duration" | "exhausted" | "aborted";
}

const FLUSH_BYTES = 1 << 20;
/**
 * Frames due within this many µs are sent now rather than after a sleep the timer cannot honour.
 */
const AHEAD_US = 1000;

function readOptions(feed: Feed, o: InjectOptions) {
  const positive = (name: string, x: number, allowInfinity = false) => {
    if (
      typeof x !== "number" || Number.isNaN(x) || x <= 0 || (!allowInfinity && !Number.isFinite(x))
    ) {
      throw new ConfigError(name, `Field "${name}" must be a number > 0, got ${String(x)}`, {
        value: x,
      });
    }
    return x;
  };
  const integer = (name: string, x: number, max: number) => {
    if (!Number.isInteger(x) || x < 1 || x > max) {
      throw new ConfigError(name, `Field "${name}" must be an integer from 1 to ${max}, got ${x}`, {
        value: x,
      });
    }
    return x;
  };
  const name = (field: string, x: string) => {
    if (!isValidName(x)) {
      throw new ConfigError(
        field,
        `Field "${field}" must be 1 to 64 of A-Z a-z 0-9 _ -, got ${describeValue(x)}`,
        { value: x },
      );
    }
    return x;
  };
  return {
    rate: positive("rate", o.rate),
    durationS: positive("durationS", o.durationS, true),
    batch: integer("batch", o.batch ?? feed.batch, FRAME_SAMPLES_MAX_DEFAULT),
    feedName: name("feedName", o.feedName ?? feed.name),
    src: o.src ?? "inject",
    run: o.run === undefined ? undefined : name("run", o.run),
    progressEveryUs: positive("progressEveryS", o.progressEveryS ?? 0.1) * 1e6,
    flushEveryFrames: integer("flushEveryFrames", o.flushEveryFrames ?? 64, 1_000_000),
    burstUs: positive("burstS", o.burstS ?? 1) * 1e6,
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The default run id of a run started at `startUs`: `r` and the time in base 36. */
export function runId(startUs: number): string {
  return `r${Math.floor(startUs).toString(36)}`;
}

/** Publishes `feed` to `bus` at `rate` samples per second for `durationS` seconds. */
export async function inject(
  bus: Bus,
  feed: Feed,
  options: InjectOptions,
): Promise<InjectResult> {
  return await new Injection(bus, feed, options).run();
}

/** One run of `inject`: the schedule, what was sent, and what is buffered in the bus. */
class Injection {
  readonly #bus: Bus;
  readonly #feed: Feed;
  readonly #options: InjectOptions;
  readonly #settings: ReturnType<typeof readOptions>;
  readonly #clock: Clock & Sleeper;
  readonly #subjects = new Map<string, string>();
  readonly #budget: number;
  readonly #usPerSample: number;
  /** `<src>:<run>:`, the prefix of every frame id of the run. */
  #idPrefix = "";
  #run = "";
  #start = 0;
  /** The schedule's zero: moves forward when debt is forgiven. */
  #origin = 0;
  #samples = 0;
  #frames = 0;
  #bytes = 0;
  #sinceFlushFrames = 0;
  #sinceFlushBytes = 0;
  #slept = false;
  #forgivenUs = 0;
  #nextProgress = 0;

  constructor(bus: Bus, feed: Feed, options: InjectOptions) {
    this.#bus = bus;
    this.#feed = feed;
    this.#options = options;
    const o = this.#settings = readOptions(feed, options);
    this.#clock = options.clock ?? new SystemClock();
    for (const channel of feed.channels) {
      this.#subjects.set(channel, feedSubject(o.feedName, channel));
    }
    this.#budget = Number.isFinite(o.durationS) ? Math.round(o.rate * o.durationS) : Infinity;
    this.#usPerSample = 1e6 / o.rate;
  }

  async run(): Promise<InjectResult> {
    const clock = this.#clock;
    this.#start = this.#origin = clock.now();
    this.#run = this.#settings.run ?? runId(this.#start);
    this.#idPrefix = `${this.#settings.src}:${this.#run}:`;
    this.#nextProgress = this.#start + this.#settings.progressEveryUs;
    const stopped = await this.#sendAll();
    // The last samples are paid for at the end of the schedule, not when they were handed over.
    if (stopped !== "aborted") {
      const end = this.#origin + this.#samples * this.#usPerSample;
      // A timer may fire a little early: wait until the clock has really reached the end.
      for (let now = clock.now(); now < end; now = clock.now()) await clock.sleep(end - now);
    }
    if (this.#options.publisher) await this.#options.publisher.drain();
    else await this.#bus.flush();
    const elapsedS = (clock.now() - this.#start) / 1e6;
    this.#options.onProgress?.(this.#samples, elapsedS);
    return {
      run: this.#run,
      samples: this.#samples,
      frames: this.#frames,
      bytes: this.#bytes,
      elapsedS,
      achievedRate: elapsedS > 0 ? this.#samples / elapsedS : 0,
      askedRate: this.#settings.rate,
      forgivenS: this.#forgivenUs / 1e6,
      stopped,
    };
  }

  /**
   * Sends the feed's frames, cut to the batch size, until the budget is spent; says why it ended.
   */
  async #sendAll(): Promise<InjectResult["stopped"]> {
    const batch = this.#settings.batch, budget = this.#budget;
    while (this.#samples < budget) {
      const step = this.#feed.pull ? await this.#pull(this.#feed.pull) : this.#feed.next();
      if (step.length === 0) return "exhausted";
      for (const frame of step) {
        for (let from = 0; from < frame.t.length; from += batch) {
          if (this.#options.signal?.aborted) return "aborted";
          const n = Math.min(batch, frame.t.length - from, budget - this.#samples);
          const part = n === frame.t.length ? frame : {
            channel: frame.channel,
            seq0: frame.seq0 + from,
            t: frame.t.subarray(from, from + n),
            v: frame.v.subarray(from, from + n),
          };
          await this.#send(part);
          if (this.#samples >= budget) return "duration";
        }
      }
    }
    return "duration";
  }

  /**
   * The next step of a feed that waits for its input: time spent waiting for the writer moves the
   * schedule on rather than counting as having fallen behind.
   */
  async #pull(pull: () => Promise<SampleFrame[]>): Promise<SampleFrame[]> {
    const before = this.#clock.now();
    const step = await pull.call(this.#feed);
    const now = this.#clock.now();
    const lateUs = now - (this.#origin + this.#samples * this.#usPerSample);
    if (lateUs > 0) this.#origin += Math.min(lateUs, now - before);
    return step;
  }

  /** Sends a frame when the schedule says (sleeping when ahead, forgiving debt past the burst). */
  async #send(frame: SampleFrame): Promise<void> {
    const clock = this.#clock, o = this.#settings;
    const due = this.#origin + this.#samples * this.#usPerSample;
    let now = clock.now();
    if (due - now > AHEAD_US && this.#sinceFlushFrames > 0) {
      // Ahead of schedule: hand on what is buffered before waiting.
      await this.#flush();
      now = clock.now();
    }
    if (due - now > AHEAD_US) {
      await clock.sleep(due - now);
      this.#slept = true;
    } else if (now - due > o.burstUs) {
      this.#forgivenUs += now - due - o.burstUs;
      this.#origin += now - due - o.burstUs;
    }
    const id = `${this.#idPrefix}${frame.channel}:${frame.seq0}`;
    const data = encodeFrame(frame, { id, src: o.src, seq: this.#frames + 1 });
    const subject = this.#subjects.get(frame.channel)!;
    const publisher = this.#options.publisher;
    if (publisher) await publisher.publish(subject, data, id, frame.t.length);
    else this.#bus.publish(subject, data);
    this.#samples += frame.t.length;
    this.#frames++;
    this.#bytes += data.byteLength;
    this.#sinceFlushFrames++;
    this.#sinceFlushBytes += data.byteLength;
    if (this.#sinceFlushFrames >= o.flushEveryFrames || this.#sinceFlushBytes >= FLUSH_BYTES) {
      await this.#flush();
    }
    const onProgress = this.#options.onProgress;
    if (onProgress && clock.now() >= this.#nextProgress) {
      onProgress(this.#samples, (clock.now() - this.#start) / 1e6);
      this.#nextProgress = clock.now() + o.progressEveryUs;
    }
  }

  async #flush(): Promise<void> {
    if (!this.#options.publisher) await this.#bus.flush();
    this.#sinceFlushFrames = 0;
    this.#sinceFlushBytes = 0;
    // A run that never sleeps must still let timers, signals and sockets have their turn.
    if (!this.#slept) await yieldToEventLoop();
    this.#slept = false;
  }
}
