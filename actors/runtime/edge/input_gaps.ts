/**
 * Silent loss on an input without positions (core NATS), made visible. Core NATS delivers at most
 * once: a host the server cuts off as a slow consumer, a reconnect, a server restart lose what was
 * in flight, and nothing redelivers it. A feed frame says where it is in its channel (`seq0`, the
 * per-channel sequence number of its first sample), so the host knows, per channel, the sequence
 * number the next frame should start at: a frame that starts past it means samples were lost on
 * the way. Gaps are counted (`troupe_input_gaps_total`, `troupe_input_lost_samples_total`) and
 * make `/healthz` 503 for `LOSS_REPORT_S` after the latest, naming the channel and the range.
 * A frame that starts before (a producer that started again, a copy) moves nothing back: only a
 * jump forward past every sample seen counts, so a resent frame never reads as a loss.
 */

/** Seconds `/healthz` reports a loss after the latest gap. */
export const LOSS_REPORT_S = 60;

/** The latest gap seen. */
export interface InputGap {
  channel: string;
  /** The first sequence number missing. */
  from: number;
  /** The last sequence number missing. */
  to: number;
  /** When it was seen (the host's clock, ms). */
  atMs: number;
}

/** Per-channel sample sequences of an input without positions, and the gaps found in them. */
export class SequenceGaps {
  /** Gaps found so far. */
  gaps = 0;
  /** Samples missing in them. */
  samples = 0;
  /** The latest gap, if any. */
  last: InputGap | undefined;
  /** Per channel, the sequence number the next frame should start at. */
  readonly #next = new Map<string, number>();
  readonly #channelsMax: number;

  /** Keeps at most `channelsMax` channels (the host's limit; past it, the map starts afresh). */
  constructor(channelsMax: number) {
    this.#channelsMax = channelsMax;
  }

  /**
   * A frame of `channel` starting at `seq0` with `samples` samples arrived; `now` (the host's
   * clock, ms) is read only when the frame shows a gap, not for every frame.
   */
  observe(channel: string, seq0: number, samples: number, now: () => number): void {
    const expected = this.#next.get(channel);
    const end = seq0 + samples;
    if (expected === undefined) {
      if (this.#next.size >= this.#channelsMax) this.#next.clear();
      this.#next.set(channel, end);
      return;
    }
    if (seq0 > expected) {
      this.gaps++;
      this.samples += seq0 - expected;
      this.last = { channel, from: expected, to: seq0 - 1, atMs: now() };
    }
    if (end > expected) this.#next.set(channel, end);
  }

  /** The reason for `/healthz`, for `LOSS_REPORT_S` after the latest gap. */
  problem(nowMs: number): string | undefined {
    const last = this.last;
    if (last === undefined) return undefined;
    const agoS = Math.max(0, (nowMs - last.atMs) / 1000);
    if (agoS >= LOSS_REPORT_S) return undefined;
    const n = last.to - last.from + 1;
    return `input lost ${n} sample${n === 1 ? "" : "s"} of channel "${last.channel}" ` +
      `(sequence ${last.from}-${last.to}) ${agoS.toFixed(1)} s ago: core NATS delivers at most ` +
      `once (a slow consumer cut off, a reconnect); ${this.gaps} gap${
        this.gaps === 1 ? "" : "s"
      }, ${this.samples} samples lost since the start`;
  }
}
