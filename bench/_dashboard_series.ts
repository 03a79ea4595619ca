/**
 * The dashboard bench's feed of one channel: the anomaly actor's columns frames (a wandering
 * value, its expected value and band, 10 samples a second of event time), in the form the actor
 * publishes them (the band as its half-width, `spread`: the page computes the edges, as it does
 * on a live feed), and, with `--bars`, the
 * bars actor's closed bars over the same samples (`BENCH_BAR_S` seconds of event time each), so
 * that a card also has a candle strip to keep on its line's range.
 */
import { encodeAnomalyColumns, encodeBar, outSubject } from "../protocol/mod.ts";

/** Event time a bench bar covers, seconds; and its size as the bars actor names it. */
export const BENCH_BAR_S = 5;
const BAR_SIZE = `${BENCH_BAR_S}s`;
const BAR_US = BENCH_BAR_S * 1e6;

/**
 * A channel fed with `out` leaves its band in turns: OUT_SAMPLES samples (3 s of event time)
 * in it, as many OUT_OFFSET further from the expected value, past the band's half-width of 3
 * (scores 1 to 1.67: out of band, the page ranks it first), and so on.
 */
const OUT_SAMPLES = 30;
const OUT_OFFSET = 4;

/** A message to publish: its subject and bytes. */
export interface Published {
  subject: string;
  bytes: Uint8Array;
}

/** The bar being summed: its start (microseconds) and prices. */
interface OpenBar {
  t: number;
  open: number;
  high: number;
  low: number;
  close: number;
  count: number;
  sum: number;
}

/** One channel's frames: a wandering value with its expected value and band; and its bars. */
export class Series {
  #timeUs: number;
  #value = 100;
  #seq = 0;
  #bar: OpenBar | undefined;
  /** With `out`, the channel leaves its band for OUT_SAMPLES samples of every twice as many. */
  constructor(
    readonly channel: string,
    startUs: number,
    readonly phase: number,
    readonly out = false,
  ) {
    this.#timeUs = startUs;
  }

  /** The next `n` samples as one columns frame. */
  frame(n: number): Uint8Array {
    return this.#next(n, undefined);
  }

  /** The next `n` samples as one columns frame, then each bar they close. */
  frameAndBars(n: number): Published[] {
    const bars: Published[] = [];
    const bytes = this.#next(n, bars);
    return [{ subject: outSubject("anomaly", this.channel), bytes }, ...bars];
  }

  /** The frame of the next `n` samples; with `bars`, each bar they close is pushed to it. */
  #next(n: number, bars: Published[] | undefined): Uint8Array {
    const t = new Float64Array(n), value = new Float64Array(n), expected = new Float64Array(n);
    const spread = new Float64Array(n), score = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.#timeUs += 100_000;
      this.#value += Math.sin((this.#seq + i) / 37 + this.phase) * 0.8 +
        Math.cos((this.#seq + i) / 5);
      t[i] = this.#timeUs;
      value[i] = this.#value;
      const out = this.out && Math.floor((this.#seq + i) / OUT_SAMPLES) % 2 === 1;
      expected[i] = this.#value - Math.sin((this.#seq + i) / 11) - (out ? OUT_OFFSET : 0);
      spread[i] = 3;
      score[i] = 0.1;
      if (bars) this.#sum(bars);
    }
    const seq0 = this.#seq;
    this.#seq += n;
    return encodeAnomalyColumns(
      { channel: this.channel, seq0, t, score, expected, spread, value },
      { id: `bench:${this.channel}:${seq0}`, src: "bench-dashboard" },
    );
  }

  /** Adds the current sample to its bar; a sample of the next bar closes it into `bars`. */
  #sum(bars: Published[]): void {
    const start = Math.floor(this.#timeUs / BAR_US) * BAR_US, v = this.#value;
    const b = this.#bar;
    if (b && b.t === start) {
      b.high = Math.max(b.high, v);
      b.low = Math.min(b.low, v);
      b.close = v;
      b.count++;
      b.sum += v;
      return;
    }
    if (b) bars.push(this.#closed(b));
    this.#bar = { t: start, open: v, high: v, low: v, close: v, count: 1, sum: v };
  }

  #closed(b: OpenBar): Published {
    const bytes = encodeBar(
      { id: `bench:${this.channel}:bar:${b.t}`, src: "bench-dashboard", ts: b.t + BAR_US },
      { channel: this.channel, bar: BAR_SIZE, ...b },
    );
    return { subject: outSubject("bars", this.channel), bytes };
  }
}
