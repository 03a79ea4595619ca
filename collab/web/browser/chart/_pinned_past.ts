/**
 * The history a pinned chart shows where its ring does not reach: the answer of `GET /history`
 * for the range pinned (read at the chart's width, _chart_past.ts), handed on to the card's
 * candles and legend, and drawn with the samples the ring received after it, so that a window
 * that goes on (an incident still open) keeps its line up to the newest sample. It says when the
 * ring no longer continues the answer without a gap (the answer is then read again).
 */
import type { HistoryResponse, Incident } from "../../../../protocol/mod.ts";
import type { HistoryClient } from "../link/mod.ts";
import { type ChartPast, chartPast, incidentBand, pastWithTail, readPast } from "./_chart_past.ts";

/** Where a chart's history comes from and who else takes it. */
export interface PinnedPastOptions {
  channel: string;
  history: HistoryClient;
  /** Called with each answer shown, and undefined when none is any more. */
  onHistory?: ((h: HistoryResponse | undefined) => void) | undefined;
}

/** A time range, seconds since the epoch. */
export interface Range {
  min: number;
  max: number;
}

export class PinnedPast {
  readonly #options: PinnedPastOptions;
  #past: ChartPast | undefined;
  /** The end (seconds) of the range the answer shown was asked for: while the ring's oldest
   *  sample is no later, the ring's newer samples continue the answer without a gap. */
  #askedMax = -Infinity;

  constructor(options: PinnedPastOptions) {
    this.#options = options;
  }

  /** What is shown (undefined: none). */
  get past(): ChartPast | undefined {
    return this.#past;
  }

  /** Reads `range` at `widthPx`; undefined when a newer request superseded it. */
  async read(range: Range, widthPx: number): Promise<HistoryResponse | undefined> {
    const { channel, history } = this.#options;
    return await readPast(history, { channel, range, widthPx });
  }

  /** Shows answer `h` to a request for a range ending at `askedMax` (undefined: shows none). */
  show(h: HistoryResponse | undefined, askedMax = -Infinity): void {
    if (!h && !this.#past) return;
    this.#past = h && chartPast(h);
    this.#askedMax = askedMax;
    this.#options.onHistory?.(h);
  }

  /** The line drawn: the answer's samples, then the ring's (`t`, `v`) after its last, up to
   *  `untilS` (the window's end). */
  line(
    ring: { t: Float64Array; v: Float64Array },
    untilS: number,
  ): { t: Float64Array; v: Float64Array } {
    return pastWithTail(this.#past!, ring, untilS);
  }

  /** Whether samples are missing between the answer and a ring whose oldest is at `firstS`. */
  gapBefore(firstS: number): boolean {
    return this.#past !== undefined && firstS > this.#askedMax;
  }

  /** The newest sample of the answer (seconds), undefined with none. */
  newestS(): number | undefined {
    const t = this.#past?.t;
    return t && t.length > 0 ? t[t.length - 1]! : undefined;
  }

  /** Takes the stage's update of an incident: true when the answer's band of it changed. */
  incidentChanged(i: Incident): boolean {
    const past = this.#past;
    if (!past || !past.incidents.some((b) => b.id === i.id)) return false;
    past.incidents = past.incidents.map((b) => b.id === i.id ? incidentBand(i) : b);
    return true;
  }
}
