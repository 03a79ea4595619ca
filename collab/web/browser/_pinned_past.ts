/**
 * The history a pinned chart shows where its ring does not reach: the answer of `GET /history`
 * for the range pinned (read at the chart's width, _chart_past.ts), handed on to the card's
 * candles and legend.
 */
import type { HistoryResponse } from "../../../protocol/mod.ts";
import type { HistoryClient } from "./history_client.ts";
import { type ChartPast, chartPast, readPast } from "./_chart_past.ts";

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

  /** Shows answer `h` (undefined: shows none). */
  show(h: HistoryResponse | undefined): void {
    if (!h && !this.#past) return;
    this.#past = h && chartPast(h);
    this.#options.onHistory?.(h);
  }
}
