/**
 * What a chart shows while it does not follow the live edge: the range pinned (a zoom, a pan, the
 * picker's range, or the window of an incident opened from the list), where its samples come from
 * (`ring` while the chart's ring holds the range's start, else `loading`, then `history`: the
 * answer PinnedPast keeps, with the ring's samples after it; or `failed`, the ring's samples
 * until it is read again), and the incident opened at (OpenedIncident), whose window goes on
 * with the samples that come while it is not resolved.
 * The chart draws it (ChannelChart.flush) and says when its range changed; this keeps it true.
 */
import type { HistoryResponse, Incident } from "../../../../protocol/mod.ts";
import { type HistoryClient, HistoryRefusal } from "../link/mod.ts";
import type { SeriesRing } from "../plot/mod.ts";
import { type ChartPast, type IncidentBand, ongoingBands } from "./_chart_past.ts";
import { OpenedIncident } from "./_opened_incident.ts";
import { PinnedPast, type Range } from "./_pinned_past.ts";

/** Where a pinned chart's line comes from, and what it does with what it reads. */
export interface PinnedRangeOptions {
  channel: string;
  /** The chart's samples. */
  ring: SeriesRing;
  /** Where a range older than the ring is read (none: a pinned range shows what the ring holds). */
  history?: HistoryClient | undefined;
  /** Called with each history answer shown, and undefined when none is any more. */
  onHistory?: ((h: HistoryResponse | undefined) => void) | undefined;
  /** The chart's width (CSS pixels): history is read at it. */
  widthPx(): number;
  /** An answer came for the range still pinned, and is shown: the chart draws it now. */
  loaded(h: HistoryResponse): void;
  /** Reading the range still pinned failed, with `message`; it is read again at `retryAtMs`
   *  (NaN: never, the request can never succeed)
   *  (the clock's milliseconds) unless something else is pinned first. */
  failed(range: Range, message: string, retryAtMs: number): void;
  /** The range whose read failed is being read again. */
  retrying(): void;
}

/**
 * What the chart shows: `live` (it follows), else pinned, from `ring`, `loading` or `history`,
 * or `failed` (history could not be read: what the ring holds of the range, until a retry).
 */
export type PinnedSource = "live" | "ring" | "loading" | "history" | "failed";

/** When a failed read is tried again: after `first_ms`, then twice as long each time, up to
 *  `max_ms`, until an answer comes or something else is pinned. */
export const HISTORY_RETRY = { first_ms: 2_000, max_ms: 30_000 } as const;

/** The ring's newest samples whose gaps give the channel's sampling step. */
const STEP_SAMPLES = 17;

export class PinnedRange {
  readonly #options: PinnedRangeOptions;
  readonly #ring: SeriesRing;
  /** The history shown while pinned to a range the ring does not cover (none without a
   *  history client). */
  readonly #past: PinnedPast | undefined;
  #range: Range | undefined;
  /** The incident the chart was opened at (the incidents panel), drawn while pinned. */
  #opened: OpenedIncident | undefined;
  source: PinnedSource = "live";
  /** The next try of a failed read, and how long the one after it waits. */
  #retry: ReturnType<typeof setTimeout> | undefined;
  #retryMs: number = HISTORY_RETRY.first_ms;

  constructor(options: PinnedRangeOptions) {
    this.#options = options;
    this.#ring = options.ring;
    const { channel, history, onHistory } = options;
    this.#past = history && new PinnedPast({ channel, history, onHistory });
  }

  /** The range pinned (seconds), undefined while the chart follows the live edge. */
  get range(): Range | undefined {
    return this.#range;
  }

  /** The incident opened at, if any. */
  get opened(): OpenedIncident | undefined {
    return this.#opened;
  }

  /** The history answer shown, if any. */
  get past(): ChartPast | undefined {
    return this.#past?.past;
  }

  /** Opens incident `incident` at `tS` (undefined: none), and gives its window at the newest
   *  sample, or the clock's now without one. */
  open(incident: Incident | undefined, tS: number): Range | undefined {
    const r = this.#ring;
    this.#opened = incident && new OpenedIncident(incident, tS);
    return this.#opened?.window(r.length > 0 ? r.lastTime() : Date.now() / 1000, this.#stepS());
  }

  /** The channel's sampling step (seconds): the median gap of the ring's newest samples;
   *  undefined with fewer than two. */
  #stepS(): number | undefined {
    const r = this.#ring;
    if (r.length < 2) return undefined;
    const t = r.view(0), from = Math.max(1, t.length - STEP_SAMPLES);
    const gaps: number[] = [];
    for (let i = from; i < t.length; i++) gaps.push(t[i]! - t[i - 1]!);
    gaps.sort((a, b) => a - b);
    return gaps[gaps.length >> 1];
  }

  /**
   * Pins `range` (seconds): from the ring when it holds the range's start, else from history
   * (what the ring has meanwhile). `incident`: it is the window of the incident opened at (else
   * a range the user chose). A range read from history keeps the answer shown (its line,
   * bands, bars and legend entries) until the new answer replaces it: an incident that resolved
   * re-pinned its card, and the legend lost its history entries for the request's round trip.
   */
  pin(range: Range, incident: boolean): void {
    this.#stopRetry();
    this.#retryMs = HISTORY_RETRY.first_ms;
    this.#range = range;
    if (this.#opened) this.#opened.windowed = incident;
    const r = this.#ring;
    const held = r.length > 1 && range.min >= r.view(0)[0]!;
    this.source = held || !this.#past ? "ring" : "loading";
    if (this.source === "loading") void this.#load(range);
    else this.#past?.show(undefined);
  }

  /** Follows the live edge again: nothing pinned, opened or shown from history. */
  follow(): void {
    this.#stopRetry();
    this.#range = undefined;
    this.#opened = undefined;
    this.#past?.show(undefined);
    this.source = "live";
  }

  /** Reads `range` from history and shows it, if it is still the one pinned; failing, shows
   *  no answer (the one kept was for another range), says so and tries again later. */
  async #load(range: Range): Promise<void> {
    let h: HistoryResponse | undefined;
    const askedMax = range.max;
    try {
      h = await this.#past!.read(range, this.#options.widthPx());
    } catch (err) {
      if (this.#range === range) {
        this.#failed(range, (err as Error).message, !(err instanceof HistoryRefusal));
      }
      return;
    }
    if (!h || this.#range !== range) return;
    this.#retryMs = HISTORY_RETRY.first_ms;
    this.#past!.show(h, askedMax);
    this.source = "history";
    this.#options.loaded(h);
  }

  /** The read of `range`, still pinned, failed with `message`: the ring's samples are shown
   *  until it is read again, after a while or at the user's word (`retry`); unless `again` is
   *  false (a request that can never succeed), when it is not read again (retryAtMs NaN). */
  #failed(range: Range, message: string, again: boolean): void {
    this.#past!.show(undefined);
    this.source = "failed";
    if (!again) return this.#options.failed(range, message, NaN);
    const wait = this.#retryMs;
    this.#retryMs = Math.min(HISTORY_RETRY.max_ms, 2 * wait);
    this.#retry = setTimeout(() => this.retry(), wait);
    this.#options.failed(range, message, Date.now() + wait);
  }

  /** Reads the range pinned again now, if its read failed (the card's button, or the timer). */
  retry(): void {
    if (this.source !== "failed" || !this.#range || this.#retry === undefined) return;
    this.#stopRetry();
    this.source = "loading";
    this.#options.retrying();
    void this.#load(this.#range);
  }

  #stopRetry(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /**
   * Samples came: while the incident opened at is still going on, its window goes on with them
   * (true when its end moved). Shown from history, the ring's samples continue the answer; once
   * they no longer do (the ring dropped samples after it), or the ring no longer holds the
   * window's start, history is read again.
   */
  appended(): boolean {
    const p = this.#range;
    if (!p || !this.#opened?.follows) return false;
    const first = this.#ring.view(0)[0]!;
    const max = Math.max(p.max, this.#ring.lastTime());
    const grew = max !== p.max;
    p.max = max;
    const stale = this.source === "history"
      ? this.#past!.gapBefore(first)
      : this.source === "ring" && this.#past !== undefined && first > p.min;
    if (stale) {
      this.source = "loading";
      void this.#load(p);
    }
    return grew;
  }

  /**
   * Takes the stage's update of an incident: `none` when nothing drawn changed, `resolved` when
   * the incident opened at resolved while its window is shown (the chart pins its span with its
   * margin, `resolvedWindow`), else `changed`.
   */
  incidentChanged(i: Incident): "none" | "changed" | "resolved" {
    const o = this.#opened;
    const inPast = this.#past?.incidentChanged(i) === true;
    const done = o ? o.update(i) : "none";
    if (!inPast && done === "none") return "none";
    return done === "resolved" && o!.windowed && this.#range ? "resolved" : "changed";
  }

  /** The window of the incident opened at, now (seconds). */
  openedWindow(): Range | undefined {
    return this.#opened?.window(this.newestS() ?? Date.now() / 1000, this.#stepS());
  }

  /** The newest sample the chart has (seconds): the ring's, or the history shown's; undefined
   *  with none. */
  newestS(): number | undefined {
    const r = this.#ring;
    const newest = Math.max(
      r.length > 0 ? r.lastTime() : -Infinity,
      this.#past?.newestS() ?? -Infinity,
    );
    return Number.isFinite(newest) ? newest : undefined;
  }

  /** The value line shown (seconds, values): history's with the ring's after it while the
   *  answer is shown, else the ring's. */
  line(): { t: Float64Array; v: Float64Array } {
    const r = this.#ring, ring = { t: r.view(0), v: r.view(1) };
    const p = this.#range;
    return p && this.#past?.past ? this.#past.line(ring, p.max) : ring;
  }

  /**
   * The incident bands drawn: history's and the one opened at, once each (the opened one as its
   * updates left it), those not resolved up to the newest sample.
   */
  bands(): IncidentBand[] {
    const past = this.#past?.past?.incidents ?? [], o = this.#opened;
    let bands: IncidentBand[] = past;
    if (o) {
      const opened = o.band();
      bands = past.some((b) => b.id === opened.id)
        ? past.map((b) => b.id === opened.id ? opened : b)
        : [...past, opened];
    }
    return ongoingBands(bands, this.newestS());
  }
}
