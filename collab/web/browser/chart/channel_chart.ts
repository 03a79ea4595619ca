/// <reference lib="dom" />
/**
 * One channel's live chart: the value with the anomaly actor's expected value and band, anomaly
 * markers, the collapse actor's change points with the regime (mean) between them, and the
 * session's annotations. Points arrive in columns into a SeriesRing; the chart redraws at most
 * once per animation frame (FrameLoop), from views of the ring, so an update allocates nothing
 * per point. While it follows the live edge a LivePlot draws it, scrolling and painting only the
 * new strip, in the live-plot worker when the page has one (RemoteLivePlot: the drawing and its
 * commit leave the main thread), else on the page; zoomed in or focused (pinned), uPlot draws the
 * window (PinnedRange keeps what is pinned and where its line is read from), and gives the axes,
 * the cursor and drag-to-zoom in both. `mode: "naive"` is the baseline
 * the bench measures against: every message rebuilds plain arrays of the whole window and redraws
 * it with uPlot at once.
 */
import uPlot from "uplot";
import { el } from "../dom.ts";
import { chartKey } from "./_chart_key.ts";
import { DataWhere } from "./_data_where.ts";
import { ChartHeader } from "./_chart_header.ts";
import { type ChangeRegime, ChartMarkers } from "./_chart_markers.ts";
import type { Overlays } from "./_chart_draw.ts";
import { chartOptions } from "./_chart_options.ts";
import {
  decimate,
  DECIMATE_COLUMNS,
  type FrameLoop,
  LIVE_UPDATES_PER_REPAINT,
  type LiveMarker,
  LivePlot,
  type LiveWorkerLink,
  type RemoteLivePlot,
  SeriesRing,
} from "../plot/mod.ts";
import { OnScreen } from "./on_screen.ts";
import type { HistoryClient } from "../link/mod.ts";
import { type IncidentBand, nearestPoint } from "./_chart_past.ts";
import { PinnedRange, type PinnedSource } from "./_pinned_range.ts";
import { HistoryFailure } from "./history_failure.ts";
import { channelUnit, type HistoryResponse, type Incident } from "../../../../protocol/mod.ts";

/** Bounds of the overlays one chart keeps. */
export const CHART_LIMITS = {
  points: 2000,
  markers_max: 256,
  height_px: 170,
  /** A chart's first width before its card's was said (the grid's narrowest column's). */
  width_px: 420,
  /** Pixel columns a chart decimates its window to at most. */
  columns_max: 2048,
  /** Live updates between two repaints with fresh scales (when the frame has room for one). */
  updates_per_repaint: LIVE_UPDATES_PER_REPAINT,
} as const;

/** Options of a ChannelChart. */
export interface ChannelChartOptions {
  channel: string;
  loop: FrameLoop;
  points?: number;
  mode?: "batched" | "naive";
  /** The worker that draws the live view; without it, the page draws it. */
  worker?: LiveWorkerLink | undefined;
  /** Called when the user clicks the chart (it marks what they look at). */
  onLook?(channel: string): void;
  /** Called with the time under the pointer (seconds), or undefined when it leaves the chart:
   *  the grid shows every chart's value at that time (the shared crosshair). */
  onCursor?(tS: number | undefined): void;
  /** Where a pinned range older than the ring is read from (`GET /history`); without it, a
   *  pinned range shows what the ring holds. */
  history?: HistoryClient | undefined;
  /** Called when the time range shown changes (pinned, followed, or the live view drew): the
   *  card's candles take it, so that they always show the line's [t0, t1]. */
  onRange?(): void;
  /** Called with the history answer shown while pinned, and undefined when none is: the card's
   *  candles draw its bars (a day's range, a day of candles). */
  onHistory?(h: HistoryResponse | undefined): void;
  /** The chart's first width, CSS pixels (the grid's column; CHART_LIMITS.width_px when not
   *  known): nothing is read from the page's layout to size it. */
  width?: number | undefined;
}

const COLUMNS = ["value", "expected", "lower", "upper"] as const;
/** The live view's margins around its plot (CSS pixels): value labels left, time labels below. */
export const LIVE_MARGINS_CSS = { left: 50, top: 10, right: 12, bottom: 26 } as const;

/** A pinned range looked at around a moment outside the ring: 5 minutes each side (seconds). */
const FOCUS_HALF_SPAN_S = 300;

export class ChannelChart {
  readonly channel: string;
  /** The channel's unit by its name (`channelUnit`): `""` for none. */
  readonly derivedUnit: string;
  /** The unit shown: the one the session set for the channel (`setUnit`), else the derived. */
  unit: string;
  readonly card: HTMLElement;
  readonly #header: ChartHeader;
  /** Who looks at the card (the header's dots). */
  readonly watchers: HTMLElement;
  /** The header's market quote (last, change, bar size), written by the card's candles. */
  readonly quote: HTMLElement;
  /** The header's value at the shared crosshair's time. */
  readonly readout: HTMLElement;
  readonly #onCursor: ((tS: number | undefined) => void) | undefined;
  readonly #onRange: (() => void) | undefined;
  /** The crosshair's time shown in the header (a new unit writes it again). */
  #cursorS: number | undefined;
  readonly #ring: SeriesRing;
  /** The decimated window handed to uPlot (two points per pixel column at most). */
  readonly #shown = Array.from(
    { length: DECIMATE_COLUMNS },
    () => new Float64Array(2 * CHART_LIMITS.columns_max),
  );
  readonly #views: Float64Array[] = [];
  readonly #plot: uPlot;
  /** The live view drawn on the page, or by the worker (neither in naive mode, which always
   *  redraws with uPlot). */
  readonly #live: LivePlot | undefined;
  readonly #remote: RemoteLivePlot | undefined;
  readonly #loop: FrameLoop;
  readonly #naive: boolean;
  readonly #markers = new ChartMarkers(CHART_LIMITS.markers_max);
  /** The range shown while not following: its source, its history, the incident opened at. */
  readonly #pinning: PinnedRange;
  /** What the card says when the history of the range shown could not be read. */
  readonly #failure = new HistoryFailure(() => this.#pinning.retry());
  /** Where the channel's data is, when that is far from now. */
  readonly #where = new DataWhere();
  #sinceRepaint = 0;
  #layoutKey = "";
  /** Off screen, the live view skips its strips once it has drawn, and repaints on coming back. */
  readonly #screen: OnScreen;
  /** Points appended since the page started (the tests read it). */
  points = 0;
  /** Taken off the page (`dispose`): it draws and keeps nothing more. */
  #disposed = false;

  constructor(parent: HTMLElement, options: ChannelChartOptions) {
    this.channel = options.channel;
    this.unit = this.derivedUnit = channelUnit(this.channel);
    this.#loop = options.loop;
    this.#naive = options.mode === "naive";
    this.#onCursor = options.onCursor;
    this.#onRange = options.onRange;
    const points = options.points ?? CHART_LIMITS.points;
    this.#ring = new SeriesRing(1 + COLUMNS.length, points);
    this.#pinning = new PinnedRange({
      channel: this.channel,
      ring: this.#ring,
      history: options.history,
      onHistory: options.onHistory,
      widthPx: () => this.#plot.width,
      loaded: (h) => {
        this.card.dataset.historySamples = String(h.samples);
        this.#failure.clear();
        this.flush();
      },
      failed: (range, message, retryAtMs) => {
        this.#failure.failed(range, message, retryAtMs);
        this.#changed();
      },
      retrying: () => this.#failure.retrying(),
    });
    this.#header = new ChartHeader({
      channel: this.channel,
      unit: this.unit,
      follow: () => this.follow(),
      pan: (fraction) => this.pan(fraction),
    });
    ({ quote: this.quote, readout: this.readout, watchers: this.watchers } = this.#header);
    const body = el("div", { class: "plot" }, this.#header.yUnit);
    this.card = el(
      "div",
      { class: "card", "data-channel": this.channel, "data-unit": this.unit },
      this.#header.element,
      body,
      chartKey(),
      this.#where.element,
      this.#failure.element,
    );
    parent.append(this.card);
    this.#screen = new OnScreen(this.card, () => (this.#live?.invalidate(), this.#changed()));
    this.card.addEventListener("pointerdown", () => options.onLook?.(this.channel));
    const plotOptions = chartOptions({
      width: options.width ?? CHART_LIMITS.width_px,
      height: CHART_LIMITS.height_px,
      // The live view's right margin, so that uPlot's plot (pinned) and the candles' line up.
      right: LIVE_MARGINS_CSS.right,
      overlays: () => this.#overlays(),
      zoom: (u) => this.#zoom(u),
      cursorMoved: (u) => this.#cursorMoved(u),
    });
    this.#plot = new uPlot(plotOptions, [[], [], [], [], []], body);
    if (!this.#naive) {
      // Under uPlot's cursor layer, over its canvas: drag-to-zoom and the cursor still work.
      const canvas = el("canvas", {
        class: "live-plot",
        style: "position:absolute;left:0;top:0;pointer-events:none",
      }) as HTMLCanvasElement;
      this.#plot.over.before(canvas);
      if (options.worker) {
        this.#remote = options.worker.plot(canvas, points, this.#onRange);
        this.#syncLayout(this.#remote);
      } else this.#live = new LivePlot(canvas);
      this.#showLive(true);
    }
  }

  /** The range pinned (seconds), undefined while following the live edge. */
  get #pinned(): { min: number; max: number } | undefined {
    return this.#pinning.range;
  }

  /** What the chart shows: `live`, or pinned from `ring`, `loading` or `history`, or `failed`
   *  (the tests and the grid read it). */
  get source(): PinnedSource {
    return this.#pinning.source;
  }

  /** The pointer moved over the chart (or left it): the time under it, for every chart. */
  #cursorMoved(u: uPlot): void {
    const left = u.cursor.left ?? -1;
    if (!this.#onCursor) return;
    this.#onCursor(left < 0 ? undefined : this.#timeAt(u, left));
  }

  /** The time (seconds) at `px`, CSS pixels into uPlot's cursor layer, in the view shown: the
   *  live view's times are by its canvas's pixel. */
  #timeAt(u: uPlot, px: number): number {
    const live = this.#pinned ? undefined : this.#live ?? this.#remote;
    return live ? live.timeAt(u.over.offsetLeft + px) : u.posToVal(px, "x");
  }

  /** The value shown nearest to `tS` (seconds), with its time; undefined with none near. */
  valueAt(tS: number): { t: number; v: number } | undefined {
    const { t, v } = this.#pinning.line();
    return nearestPoint(t, v, tS);
  }

  /** Marks the card a market's (its candles came): its axis says `price` for want of a unit,
   *  when its name is a symbol's. */
  setMarket(): void {
    this.#header.setMarket(this.unit);
  }

  /** What the value axis says: the unit, or `price` on a market's card without one. */
  get axisUnit(): string {
    return this.#header.axisUnit;
  }

  /** Shows `set` as the channel's unit (the session's), or the derived unit for undefined. */
  setUnit(set: string | undefined): void {
    const unit = set ?? this.derivedUnit;
    this.card.dataset.unitSet = set === undefined ? "" : "1";
    if (unit === this.unit) return;
    this.unit = unit;
    this.card.dataset.unit = unit;
    this.#header.setUnit(unit);
    this.showAt(this.#cursorS);
  }

  /** Shows the value at the crosshair's time `tS` in the header (nothing for undefined). */
  showAt(tS: number | undefined): void {
    this.#cursorS = tS;
    this.#header.showValue(tS === undefined ? undefined : this.valueAt(tS), this.unit);
  }

  /** Drag-to-zoom: pins the dragged time range, read from the view that was shown. */
  #zoom(u: uPlot): void {
    const { left, width } = u.select;
    if (width <= 0) return;
    const min = this.#timeAt(u, left), max = this.#timeAt(u, left + width);
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.#pin({ min, max }, false);
  }

  /** Sizes the live view's canvas as uPlot's, with its own plot rectangle (uPlot sizes its axes
   *  only once it has data, which it gets only while pinned). */
  #syncLayout(live: LivePlot | RemoteLivePlot): void {
    const width = this.#plot.width, dpr = devicePixelRatio;
    const key = `${width},${dpr}`;
    if (key === this.#layoutKey) return;
    this.#layoutKey = key;
    const px = (css: number) => Math.round(css * dpr);
    const { left, top, right, bottom } = LIVE_MARGINS_CSS;
    live.layout(width, CHART_LIMITS.height_px, {
      left: px(left),
      top: px(top),
      width: px(width - left - right),
      height: px(CHART_LIMITS.height_px - top - bottom),
    }, dpr);
  }

  /** Shows the live view (following) or uPlot's (pinned). */
  #showLive(on: boolean): void {
    const canvas = this.#remote?.canvas ?? this.#live?.canvas;
    if (!canvas || !("style" in canvas)) return;
    canvas.style.visibility = on ? "visible" : "hidden";
    this.#plot.ctx.canvas.style.visibility = on ? "hidden" : "visible";
    if (on) this.#live?.invalidate();
    this.#remote?.follow(on);
  }

  /** Something shown changed: the page redraws it next frame, unless the worker draws it. */
  #changed(): void {
    if (!this.#remote || this.#pinned) this.#loop.mark(this);
  }

  /**
   * Appends the first `n` samples of the anomaly actor's columns of one message: `t` in
   * microseconds, then value, expected, lower and upper.
   */
  append(cols: readonly Float64Array[], n: number): void {
    if (this.#disposed) return;
    this.#ring.append(cols, 0, n, 1e-6);
    this.points += n;
    if (this.#ring.length > 0) {
      this.#where.update(this.#ring.view(0)[0]!, this.#ring.lastTime(), Date.now() / 1000);
    }
    // The window of an incident opened at grew: the card's candles take it, on the line's axis.
    if (this.#pinning.appended()) this.#onRange?.();
    this.#remote?.append(cols, n);
    if (this.#naive) this.#redrawNaive();
    else this.#changed();
  }

  /** Redraws from the ring's views (the FrameLoop calls this once per frame at most). */
  flush(): void {
    if (this.#disposed || (this.#remote && !this.#pinned)) return;
    const r = this.#ring, views = this.#views;
    for (let c = 0; c < DECIMATE_COLUMNS; c++) views[c] = r.view(c);
    if (this.#live && !this.#pinned) {
      if (!this.#screen.on && this.#live.paints.full > 0) return;
      this.#syncLayout(this.#live);
      // Fresh scales every so often, when this frame has room for a whole repaint (taken only if
      // they differ from the current ones: then the count starts again either way).
      const refresh = this.#sinceRepaint >= CHART_LIMITS.updates_per_repaint &&
        this.#loop.takeRepaint();
      const kind = this.#live.update(views, this, refresh);
      if (kind !== "none") this.#onRange?.();
      this.#sinceRepaint = kind === "full" || (refresh && kind !== "none")
        ? 0
        : this.#sinceRepaint + 1;
      return;
    }
    if (this.#pinned && this.#pinning.past) return this.#drawPast(this.#pinned);
    let data = views;
    if (!this.#pinned) {
      // uPlot following the live edge (naive mode's markers): the whole window, two points per
      // pixel column at most. Zoomed in (pinned), every point.
      const columns = Math.min(
        CHART_LIMITS.columns_max,
        Math.max(16, this.#plot.bbox.width / devicePixelRatio),
      );
      const m = decimate(views, this.#shown, Math.floor(columns));
      for (let c = 0; c < DECIMATE_COLUMNS; c++) views[c] = this.#shown[c]!.subarray(0, m);
      data = views;
    }
    // batch: uPlot commits (scales, paths, draw) now, once, rather than in a later microtask.
    this.#plot.batch(() => {
      // Fresh scales pinned too: the y range is the window's, not what was shown before it.
      this.#plot.setData(data as unknown as uPlot.AlignedData, true);
      if (this.#pinned) this.#plot.setScale("x", this.#pinned);
    });
  }

  /** What the live view draws besides the series (LiveOverlays). */
  get anomalies(): readonly LiveMarker[] {
    return this.#markers.anomalies;
  }
  get changes(): readonly LiveMarker[] {
    return this.#markers.changes;
  }
  get annotations(): readonly LiveMarker[] {
    return this.#markers.annotations;
  }

  #redrawNaive(): void {
    const r = this.#ring;
    const data: number[][] = [];
    for (let c = 0; c <= COLUMNS.length; c++) data.push(Array.from(r.view(c)));
    this.#plot.batch(() => this.#plot.setData(data as unknown as uPlot.AlignedData));
    this.#loop.rendered();
  }

  /** Titles the card: the session's panel title with the channel, or the channel alone. */
  setTitle(title: string | undefined): void {
    this.#header.setTitle(title);
  }

  /** Adds an anomaly marker (`t` microseconds). */
  addAnomaly(tUs: number, value: number, text: string): void {
    this.#markers.addAnomaly(tUs * 1e-6, value, text);
    this.#live?.invalidateFrom(tUs * 1e-6);
    this.#remote?.overlays(this, tUs * 1e-6);
    this.#changed();
  }

  /**
   * Adds a change point at `tUs`, confirmed at `seenUs` (microseconds), with the regime's means
   * and the level just before it: regimes.ts says where each is drawn.
   */
  addChange(tUs: number, regime: ChangeRegime, seenUs: number, text: string): void {
    // The regime before it now ends there: repaint from the change before it on.
    const from = this.#markers.addChange(tUs * 1e-6, regime, seenUs * 1e-6, text);
    this.#live?.invalidateFrom(from);
    this.#remote?.overlays(this, from);
    this.#changed();
  }

  /** Replaces the annotations drawn (`t` milliseconds since the epoch). */
  setAnnotations(list: Array<{ t: number; text: string; color: string }>): void {
    this.#markers.setAnnotations(list);
    this.#live?.invalidate();
    this.#remote?.overlays(this, -Infinity);
    this.#changed();
  }

  /**
   * Shows the window around `tMs` (milliseconds since the epoch) and stops following: half the
   * ring's span when the ring holds that moment, else ten minutes of history around it; with an
   * incident, its window and its band (OpenedIncident: while it is not resolved, up to now, the
   * ring's newest sample as at the live view's right edge, else the clock's, and on with the
   * samples that come; its updates reach it, `incidentChanged`), until the chart follows live.
   */
  focus(tMs: number, incident?: Incident): void {
    const t = tMs / 1000, r = this.#ring;
    const held = r.length > 1 && t >= r.view(0)[0]!;
    const half = held ? (r.lastTime() - r.view(0)[0]!) / 4 : FOCUS_HALF_SPAN_S;
    const opened = this.#pinning.open(incident, t);
    this.#pin(opened ?? { min: t - half, max: t + half }, opened !== undefined);
    this.card.classList.add("focused");
    this.card.scrollIntoView({ block: "nearest" });
  }

  /**
   * Takes the stage's update of an incident: the band of one drawn (the incident opened at, or
   * one of the history shown) is drawn as it is now, and an incident opened at that resolves
   * leaves the samples and shows its span with its margin. An incident the chart does not draw
   * costs nothing (no redraw).
   */
  incidentChanged(i: Incident): void {
    const done = this.#pinning.incidentChanged(i);
    if (done === "resolved") this.#pin(this.#pinning.openedWindow()!, true);
    else if (done === "changed") this.#changed();
  }

  /**
   * Pans: shows the range shown moved by `fraction` of its width (negative: earlier), pinned,
   * from the ring or from history as any pinned range is.
   */
  pan(fraction: number): void {
    const { min, max } = this.xRange();
    const by = (max - min) * fraction;
    this.#pin({ min: min + by, max: max + by }, false);
  }

  /** Stops following and shows `range` (seconds since the epoch). */
  showRange(range: { min: number; max: number }): void {
    this.#pin(range, false);
  }

  /**
   * Stops following and shows `range` (seconds) with uPlot, now: from the ring when it holds the
   * range's start, else from the history endpoint (what the ring has meanwhile). `incident`: it
   * is the window of the incident opened at (else a range the user chose).
   */
  #pin(range: { min: number; max: number }, incident: boolean): void {
    this.#failure.clear();
    this.#pinning.pin(range, incident);
    this.#showLive(false);
    this.flush();
    this.#onRange?.();
  }

  /** Draws the history pinned, with the ring's samples after it: the value line alone (history
   *  has no band). */
  #drawPast(range: { min: number; max: number }): void {
    const { t, v } = this.#pinning.line();
    const none = new Array<null>(t.length).fill(null);
    this.#plot.batch(() => {
      // Fresh scales: the y range is the history's, not what was shown before.
      this.#plot.setData([t, v, none, none, none] as unknown as uPlot.AlignedData, true);
      this.#plot.setScale("x", range);
    });
  }

  /**
   * The incident bands drawn: history's and the one opened at, once each (the opened one as its
   * updates left it), those not resolved up to the newest sample (the tests read it).
   */
  incidentBands(): IncidentBand[] {
    return this.#pinning.bands();
  }

  /** Points shown while pinned (the tests read it). */
  shownPoints(): number {
    return this.#plot.data[0]?.length ?? 0;
  }

  /** Follows the live edge again. */
  follow(): void {
    this.#failure.clear();
    this.#pinning.follow();
    this.#showLive(true);
    this.card.classList.remove("focused");
    this.#changed();
    this.#onRange?.();
  }

  /** The x range shown, seconds: the range pinned (uPlot's scale is unset until it has data),
   *  the live view's while following, else uPlot's (the candles and the tests read it). */
  xRange(): { min: number; max: number } {
    if (this.#pinned) return { ...this.#pinned };
    const live = this.#live ?? this.#remote;
    if (live) return live.range();
    return { min: this.#plot.scales.x!.min!, max: this.#plot.scales.x!.max! };
  }

  /** The live view's paint counts (the bench and tests read them), if it has one. */
  livePaints(): { none: number; strip: number; full: number } | undefined {
    const live = this.#live ?? this.#remote;
    return live ? { ...live.paints } : undefined;
  }

  /** Repaints the whole live view now at its current scales (the tests compare what the strips
   *  painted with it). */
  async repaintLive(): Promise<void> {
    if (this.#remote) return await this.#remote.repaint();
    const r = this.#ring, views = this.#views;
    for (let c = 0; c < DECIMATE_COLUMNS; c++) views[c] = r.view(c);
    if (this.#live) this.#syncLayout(this.#live);
    this.#live?.redraw(views, this);
  }

  /** The live view's pixels (RGBA rows), read where it is drawn (the tests compare them). */
  async livePixels(): Promise<Uint8ClampedArray> {
    if (this.#remote) return await this.#remote.pixels();
    const canvas = this.#live?.canvas;
    const ctx = canvas?.getContext("2d") as CanvasRenderingContext2D | null | undefined;
    if (!canvas || !ctx) throw new Error(`Cannot read the live view of ${this.channel}: none`);
    return ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  }

  /** Where the time axis runs, CSS pixels from the page's left: the live view's plot while
   *  following, uPlot's while pinned (the tests compare it with the candles'). */
  plotX(): { left: number; width: number } {
    const over = this.#plot.over.getBoundingClientRect();
    if (this.#pinned || (!this.#live && !this.#remote)) {
      return { left: over.left, width: over.width };
    }
    const canvas = this.#plot.root.getBoundingClientRect();
    const { left, right } = LIVE_MARGINS_CSS;
    return { left: canvas.left + left, width: this.#plot.width - left - right };
  }

  /** The chart's width, CSS pixels. */
  get width(): number {
    return this.#plot.width;
  }

  /** What the overlays draw now (drawOverlays). */
  #overlays(): Overlays {
    return {
      changes: this.#markers.changes,
      findings: this.#pinning.past?.findings ?? [],
      incidents: this.incidentBands(),
      annotations: this.#markers.annotations,
      anomalies: this.#markers.anomalies,
    };
  }

  /**
   * Takes the card off the page and frees its plot (the grid made room for a channel further up
   * the fleet's order). Only a chart the page draws: a worker's live view has no way to be freed.
   */
  dispose(): void {
    this.#disposed = true;
    this.#screen.stop();
    this.#plot.destroy();
    this.card.remove();
  }

  /** Resizes to the card's width. */
  resize(width: number): void {
    this.#plot.setSize({ width, height: CHART_LIMITS.height_px });
    if (this.#remote) this.#syncLayout(this.#remote);
    this.#changed();
  }
}
