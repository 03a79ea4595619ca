/**
 * A channel's past samples, read from the feed stream (`TROUPE_FEED`, the JetStream stream that
 * keeps every frame published on `troupe.feed.>` for the hosts): what a history answer is made
 * of. One read is one short-lived pull consumer filtered to the channel's subjects, starting at
 * the stream's first frame stored at or after t0, unacknowledged (nothing is consumed for
 * anyone else), deleted when the read ends.
 *
 * Seeking by store time is exact for a live feed: a frame is stored after its samples were taken,
 * so a frame stored before t0 holds no sample at or after t0. A feed whose samples are stamped
 * later than they are published (a replay into the future) would have its first frames past t0
 * missed; nothing troupe publishes does that. The read stops at the first frame that starts at or
 * after t1, or at what the stream held when the read began.
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { FEED_STREAM } from "../../../actors/runtime/mod.ts";
import {
  decodeFrameInto,
  feedChannelPattern,
  type FrameRoom,
  ProtocolError,
} from "../../../protocol/mod.ts";

/** Where a history answer's samples come from. */
export interface HistorySource {
  /** Calls `onFrame` with the columns of each frame of `channel` that may hold samples in
   *  [t0_us, t1_us), in stream order; resolves when the range is read. */
  read(range: HistoryRange, onFrame: (t: Float64Array, v: Float64Array) => void): Promise<void>;
}

/** A channel and a time range (µs since the epoch, t1 exclusive). */
export interface HistoryRange {
  channel: string;
  t0_us: number;
  t1_us: number;
}

/** Takes one frame of a read with its stream sequence and how many frames may still follow it;
 *  true when the read is done. */
export type FrameHandler = (
  seq: number,
  t: Float64Array,
  v: Float64Array,
  after: number,
) => boolean;

/** Options of one `readFrames`. */
export interface ReadFramesOptions {
  /** Room for a frame's `n` samples in columns the caller keeps: the frame is decoded straight
   *  into it and handed on as views of it. Without it, or when it gives none, a frame is
   *  decoded into columns of its own. */
  room?(n: number): FrameRoom | undefined;
  /** Told the stream sequence of each frame read that had nothing to hand on (not a valid
   *  sample frame, or no samples), so that a reader resuming after the last frame it was handed
   *  need not read these again. */
  passed?(seq: number): void;
}

/** Options of a FeedStreamHistory. */
export interface FeedStreamHistoryOptions {
  /** The feed stream: `TROUPE_FEED`. */
  stream?: string;
  /** Frames fetched a round trip: 2,048. */
  fetch_frames?: number;
  /** Frames one read may go through at most (a bound on the work one request makes): 2,000,000. */
  frames_max?: number;
  /** How long a fetch may wait for frames the stream said it held: 5,000 ms. */
  fetch_timeout_ms?: number;
}

/** Frames the feed stream would not give back: a read that cannot be answered truthfully. */
export class HistoryReadError extends Error {
  override name = "HistoryReadError";
}

/** Reads a channel's frames from the feed stream. */
export class FeedStreamHistory implements HistorySource {
  readonly #nc: NatsConnection;
  readonly #stream: string;
  readonly #fetchFrames: number;
  readonly #framesMax: number;
  readonly #fetchTimeoutMs: number;
  #jsm: Promise<JetStreamManager> | undefined;
  /** Frames that were not sample frames, skipped (they went to the DLQ at the hosts). */
  skipped = 0;

  constructor(nc: NatsConnection, options: FeedStreamHistoryOptions = {}) {
    this.#nc = nc;
    this.#stream = options.stream ?? FEED_STREAM;
    this.#fetchFrames = options.fetch_frames ?? 2_048;
    this.#framesMax = options.frames_max ?? 2_000_000;
    this.#fetchTimeoutMs = options.fetch_timeout_ms ?? 5_000;
  }

  async read(range: HistoryRange, onFrame: (t: Float64Array, v: Float64Array) => void) {
    const from = { time_us: range.t0_us };
    await this.readFrames(range.channel, from, (_seq, t, v) => {
      onFrame(t, v);
      return t[0]! >= range.t1_us;
    });
  }

  /**
   * Calls `onFrame` with the stream sequence and the columns of each frame of `channel`, in
   * stream order, from the first stored at or after `from.time_us` or from sequence `from.seq`,
   * to what the stream held when the read began, or until `onFrame` returns true. `after` is how
   * many frames the read may still hand on after this one (what the stream held at its start, so
   * a reader can size its room once instead of growing it frame by frame). With
   * `options.room`, frames are decoded into the caller's columns.
   */
  async readFrames(
    channel: string,
    from: { time_us: number } | { seq: number },
    onFrame: FrameHandler,
    options: ReadFramesOptions = {},
  ): Promise<void> {
    this.#jsm ??= jetstreamManager(this.#nc);
    const jsm = await this.#jsm;
    let info;
    try {
      info = await jsm.consumers.add(this.#stream, {
        filter_subject: feedChannelPattern(channel),
        ...("seq" in from
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq }
          : {
            deliver_policy: DeliverPolicy.StartTime,
            opt_start_time: new Date(Math.floor(from.time_us / 1000)).toISOString(),
          }),
        ack_policy: AckPolicy.None,
        mem_storage: true,
        inactive_threshold: 30_000_000_000,
      });
    } catch (err) {
      // No feed stream yet (nothing was ever published): no history, not an error.
      if (/stream not found/i.test((err as Error).message)) return;
      throw err;
    }
    try {
      const consumer = await jetstream(this.#nc).consumers.get(this.#stream, info.name);
      let left = Math.min(info.num_pending, this.#framesMax);
      while (left > 0) {
        const want = Math.min(left, this.#fetchFrames);
        const batch = await consumer.fetch({ max_messages: want, expires: this.#fetchTimeoutMs });
        let got = 0;
        let past = false;
        for await (const m of batch) {
          got++;
          past ||= this.#deliver(streamSeqOf(m), m.data, onFrame, left - got, options);
          if (got === want) break;
        }
        if (got === 0) {
          throw new HistoryReadError(
            `Reading ${channel}'s history from stream ${this.#stream}: no frame came in ` +
              `${this.#fetchTimeoutMs} ms with ${left} still held`,
          );
        }
        left -= got;
        if (past) break;
      }
    } finally {
      await jsm.consumers.delete(this.#stream, info.name).catch(() => {});
    }
  }

  /** The sequence of the stream's first frame (frames before it have aged out), 0 with none. */
  async firstSeq(): Promise<number> {
    this.#jsm ??= jetstreamManager(this.#nc);
    try {
      return (await (await this.#jsm).streams.info(this.#stream)).state.first_seq;
    } catch (err) {
      if (/stream not found/i.test((err as Error).message)) return 0;
      throw err;
    }
  }

  /** Hands one frame on; true when the read is done. */
  #deliver(
    seq: number,
    data: Uint8Array,
    onFrame: FrameHandler,
    after: number,
    options: ReadFramesOptions,
  ): boolean {
    let frame;
    try {
      frame = decodeFrameInto(data, { room: options.room ?? noRoom });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.skipped++;
      options.passed?.(seq);
      return false;
    }
    if (frame.t.length === 0) return options.passed?.(seq), false;
    return onFrame(seq, frame.t, frame.v, after);
  }
}

const noRoom = () => undefined;

const DOT = 46, ZERO = 48;

/**
 * The stream sequence of a message a consumer delivered, read from its reply subject
 * (`$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>`, or with
 * `<domain>.<account hash>.` after `ACK.` and a token at the end) without splitting it: `m.seq`
 * splits the subject and parses its five numbers, for every frame of an answer. Any other form is
 * left to `m.seq`.
 */
function streamSeqOf(m: JsMsg): number {
  // nats.js keeps the subject as `reply` on its messages without typing it: read if present.
  const r = (m as unknown as { reply?: unknown }).reply;
  if (typeof r !== "string") return m.seq;
  let dots = 0;
  for (let i = 0; i < r.length; i++) if (r.charCodeAt(i) === DOT) dots++;
  const token = dots === 8 ? 5 : dots === 11 ? 7 : -1;
  if (token < 0 || !r.startsWith("$JS.ACK.")) return m.seq;
  let i = 0;
  for (let k = 0; k < token; i++) if (r.charCodeAt(i) === DOT) k++;
  let seq = 0, digits = 0;
  for (; i < r.length && r.charCodeAt(i) !== DOT; i++, digits++) {
    const d = r.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return m.seq;
    seq = seq * 10 + d;
  }
  return digits === 0 ? m.seq : seq;
}
