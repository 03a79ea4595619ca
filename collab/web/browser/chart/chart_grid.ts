/// <reference lib="dom" />
/**
 * The grid of channel charts: one card per channel, created when its first data arrives (at most
 * `charts_max`), each a ChannelChart with a CandleChart below once bars exist. The session
 * document's chart panels (`dashboard`) lay it out: a panel's channels get their cards at once,
 * titled with the panel's title, placed by its layout (row `y`, then column `x`; `w` grid columns
 * wide), before the channels no panel names. Those follow in the fleet's order (`ChannelIndex`:
 * what is wrong now first, grouped by `instance` and `job` under a header each), or by name
 * without an index: the order never depends on which channel's data came first. The fleet's order
 * is taken again when an incident opens or ends, the labels or the filter change, and every
 * ORDER_INTERVAL_MS for the scores, but not while the pointer is over the cards (a card does not
 * move from under the hand reading it). The filter (the page's box) hides the cards it does not
 * pass. Cards are made as channels' data first comes while there is room; once the grid is full,
 * with an index, which channels have a card follows the order: the first `charts_max` channels
 * the filter passes (the panels' cards counted in), the worst first, so that of a fleet's
 * thousands of series the ones in trouble are drawn and the rest cost a score each; a card that
 * falls out to make room is taken off the page (unless it is focused, pinned to a range, or its
 * live view is drawn by the worker, which cannot free one), and one that comes in starts from the
 * last samples the index kept of it. Past SLOT_LIMITS.built_all_max slots, a card is built only
 * while its slot is near the window (fleet/card_slots.ts): a slot further away is a placeholder in
 * the card's place, ordered, grouped and filtered as the card, and the channel's samples go to the
 * index alone until the card is built again. It also places who-looks-where dots and the
 * session's annotations on the cards.
 */
import { CandleChart } from "./candle_chart.ts";
import { IncidentLegend } from "./incident_legend.ts";
import { HistoryHorizon } from "./history_horizon.ts";
import { ChannelChart } from "./channel_chart.ts";
import { byId, el } from "../dom.ts";
import {
  CardSlots,
  CardWidths,
  type ChannelFilter,
  type ChannelIndex,
  GroupHeads,
  NO_FILTER,
  setOrder,
  SLOT_LIMITS,
} from "../fleet/mod.ts";
import type { FrameLoop, LiveWorkerLink } from "../plot/mod.ts";
import type { HistoryClient } from "../link/mod.ts";
import type { Panel } from "../../../session/mod.ts";
import type { Incident } from "../../../../protocol/mod.ts";

/** Bounds of the grid. */
export const GRID_LIMITS = { charts_max: 64 } as const;

/** How often the fleet's order is taken again for the scores, ms. */
export const ORDER_INTERVAL_MS = 5_000;
/** How soon the order is taken after a channel not seen before sends its first samples, ms. */
export const ORDER_SOON_MS = 200;

/** Options of a ChartGrid. */
export interface ChartGridOptions {
  loop: FrameLoop;
  mode?: "batched" | "naive";
  points?: number;
  /** The worker that draws the charts' live views (else the page draws them). */
  worker?: LiveWorkerLink | undefined;
  onLook?(channel: string): void;
  /** Where the charts read ranges older than their rings. */
  history?: HistoryClient | undefined;
  /** Called with each card made (the layout controls add their buttons). */
  decorate?(chart: ChannelChart): void;
  /** What orders and groups the cards no panel places (else they follow by name). */
  index?: ChannelIndex | undefined;
  /** Called after the fleet's order was taken (the filter box's count). */
  onOrder?(): void;
}

interface Entry {
  chart: ChannelChart;
  candles: CandleChart | undefined;
  legend: IncidentLegend;
  /** How far back the server holds the channel whole, when a range shown starts earlier. */
  horizon: HistoryHorizon;
}

export class ChartGrid {
  readonly #root = byId("charts");
  readonly #entries = new Map<string, Entry>();
  readonly #options: ChartGridOptions;
  #annotations: Array<{ t: number; channel: string; text: string; color: string }> = [];
  #panels: readonly Panel[] = [];
  /** The CSS order of the first card no panel places (the panels' cards come before). */
  #unplacedFrom = 0;
  #relayout = false;
  readonly #heads = new GroupHeads(this.#root);
  #filter: ChannelFilter = NO_FILTER;
  /** Whether the pointer is over the cards (the periodic order waits until it leaves). */
  #reading = false;
  /** The channels that may have a card (with an index, once it ordered them; else any). */
  #wanted: Set<string> | undefined;
  /** Channels the index knew when the order was last taken, and whether one is due soon. */
  #known = 0;
  #soon = false;
  /** Whether `#choose` is making cards (they are ordered after the last of them). */
  #choosing = false;
  /** The slots whose cards are not built, past SLOT_LIMITS.built_all_max slots. */
  readonly #slots = new CardSlots(this.#root, () => this.#virtualize());
  /** Whether the cards left to build wait for an animation frame asked for. */
  #buildAsked = false;
  /** The cards' widths, said after layout: their charts follow them. */
  readonly #widths = new CardWidths((card, widthPx) => this.#cardWidth(card, widthPx));
  /** Who looks where and the range shown, for the cards built after they were said. */
  #watchers: Array<{ name: string; color: string; chart: string | undefined }> = [];
  #range: { min: number; max: number } | undefined;

  constructor(options: ChartGridOptions) {
    this.#options = options;
    if (options.index) {
      this.#root.addEventListener("pointerenter", () => (this.#reading = true));
      this.#root.addEventListener("pointerleave", () => (this.#reading = false));
      setInterval(() => {
        if (!this.#reading) this.reorder();
      }, ORDER_INTERVAL_MS);
    }
  }

  /** A card's width changed (the window's, its panel's span, the scroll bar): its charts follow. */
  #cardWidth(card: Element, widthPx: number): void {
    const e = this.#entries.get((card as HTMLElement).dataset.channel ?? "");
    if (!e || e.chart.card !== card || e.chart.width === widthPx) return;
    e.chart.resize(widthPx);
    e.candles?.resize(widthPx);
  }

  /** The chart of `channel`, created if there is room. */
  chart(channel: string): ChannelChart | undefined {
    return this.#entry(channel)?.chart;
  }

  /** The candle chart of `channel`, created with its card if needed. */
  candles(channel: string): CandleChart | undefined {
    const e = this.#entry(channel);
    if (!e) return undefined;
    const chart = e.chart;
    if (e.candles) return e.candles;
    chart.setMarket();
    // As wide as the line above it: one time axis, pixel for pixel.
    e.candles = new CandleChart(chart.card, chart.width, {
      loop: this.#options.loop,
      line: chart,
      quote: chart.quote,
      unit: chart.axisUnit,
    });
    return e.candles;
  }

  /** Channels with a slot in the grid, their cards built or not. */
  channels(): string[] {
    return [...this.#entries.keys(), ...this.#slots.placeholders().map(([c]) => c)];
  }

  /** Channels whose cards are built (near the screen, or all of a grid of few). */
  built(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * The card of `channel`, made if there is room: built, or a placeholder (none returned) when
   * cards are built only near the screen. `force`: built however far from it.
   */
  #entry(channel: string, force = false): Entry | undefined {
    const e = this.#entries.get(channel);
    if (e) return e;
    if (this.#slots.placeholder(channel)) return force ? this.#unpark(channel) : undefined;
    // Full: a channel the order wants gets a card when it is taken again (`#choose`).
    const count = this.#slotCount();
    if (count >= GRID_LIMITS.charts_max) {
      return force || this.#wanted?.has(channel) ? undefined : this.#unseen(channel);
    }
    if (force || !this.#virtual(count + 1)) return this.#build(channel);
    this.#slots.park(channel);
    if (!this.#choosing) this.#orderUnplaced();
    // The slot that made the grid one of many: the cards built so far away are freed.
    if (count === SLOT_LIMITS.built_all_max) this.#virtualize();
    return undefined;
  }

  #slotCount(): number {
    return this.#entries.size + this.#slots.size;
  }

  #has(channel: string): boolean {
    return this.#entries.has(channel) || this.#slots.placeholder(channel) !== undefined;
  }

  /** Whether a grid of `slots` builds its cards only near the screen (the worker cannot free
   *  one). */
  #virtual(slots = this.#slotCount()): boolean {
    return this.#slots.available && !this.#options.worker && slots > SLOT_LIMITS.built_all_max;
  }

  /** Builds the card of a parked channel, in its placeholder's place. */
  #unpark(channel: string): Entry {
    const slot = this.#slots.unpark(channel)!;
    return this.#build(channel, slot);
  }

  /**
   * Builds `channel`'s card, from the samples the index kept of it; in `slot`'s place when given
   * (its order and hidden taken, the grid's order not taken again), else ordered now.
   */
  #build(channel: string, slot?: HTMLElement): Entry {
    const chart = new ChannelChart(this.#root, {
      channel,
      loop: this.#options.loop,
      ...(this.#options.mode ? { mode: this.#options.mode } : {}),
      ...(this.#options.points ? { points: this.#options.points } : {}),
      ...(this.#options.onLook ? { onLook: this.#options.onLook } : {}),
      worker: this.#options.worker,
      history: this.#options.history,
      width: this.#widths.columnPx,
      onCursor: (t) => {
        for (const other of this.#entries.values()) other.chart.showAt(t);
      },
      // An answer with bars makes the card's strip: a channel opened from an old event may
      // have no live bar yet (nor ever), and its range view draws the answer's bars at once.
      onHistory: (h) => {
        const e = this.#entries.get(channel);
        e?.legend.history(h?.incidents);
        e?.horizon.history(h);
        (h && h.bars.t.length > 0 ? this.candles(channel) : e?.candles)?.showPast(h?.bars);
      },
      onRange: () => {
        const e = this.#entries.get(channel);
        e?.candles?.rangeChanged();
        if (e?.chart.source === "live") e.legend.focus(undefined);
      },
    });
    const legend = new IncidentLegend(), horizon = new HistoryHorizon();
    chart.card.querySelector(".plot")!.after(horizon.element, legend.element);
    const e: Entry = { chart, candles: undefined, legend, horizon };
    this.#entries.set(channel, e);
    // A channel that rose in the order starts from the samples the index kept of it.
    const tail = this.#options.index?.tail(channel);
    if (tail) chart.append(tail, tail[0]!.length);
    // Its width once laid out, should it differ from its column's (a panel's span).
    this.#widths.watch(chart.card);
    this.#options.decorate?.(chart);
    // A channel that arrives after the panels were read takes its place among them.
    if (this.#panels.length > 0 && !this.#relayout) {
      this.#relayout = true;
      queueMicrotask(() => {
        this.#relayout = false;
        this.setPanels(this.#panels);
      });
    }
    chart.setAnnotations(this.#annotations.filter((a) => a.channel === channel));
    this.#showWatchers(channel, chart);
    if (this.#range) chart.showRange(this.#range);
    this.#slots.watch(chart.card);
    if (slot) {
      chart.card.style.order = slot.style.order;
      chart.card.hidden = slot.hidden;
    } else if (!this.#choosing) this.#orderUnplaced();
    return e;
  }

  /**
   * Builds the cards of the slots that came near the screen and frees those that left it, but
   * not a card the grid must keep: placed by a panel, focused, or pinned to a range.
   */
  #virtualize(): void {
    const virtual = this.#virtual();
    const coming = this.#slots.placeholders().filter(([, slot]) =>
      !virtual || this.#slots.near(slot) === true
    ).sort(([, a], [, b]) => Number(a.style.order) - Number(b.style.order)).map(([c]) => c);
    const going = virtual
      ? [...this.#entries].filter(([, e]) =>
        this.#slots.near(e.chart.card) === false && !e.chart.card.dataset.panel &&
        !e.chart.card.classList.contains("focused") && e.chart.source === "live"
      ).map(([c]) => c)
      : [];
    for (const c of going) {
      this.#slots.park(c, this.#entries.get(c)!.chart.card);
      this.#dropCard(c);
    }
    const t0 = performance.now();
    for (let i = 0; i < coming.length; i++) {
      if (i >= SLOT_LIMITS.build_max || (i > 0 && performance.now() - t0 >= SLOT_LIMITS.build_ms)) {
        return this.#buildLater();
      }
      this.#unpark(coming[i]!);
    }
  }

  /** Builds the cards left over after the next animation frame (`SLOT_LIMITS.build_max`). */
  #buildLater(): void {
    if (this.#buildAsked) return;
    this.#buildAsked = true;
    requestAnimationFrame(() => {
      this.#buildAsked = false;
      this.#virtualize();
    });
  }

  /** Takes `channel`'s card or placeholder off the page. */
  #free(channel: string): void {
    if (!this.#slots.unpark(channel)) this.#dropCard(channel);
  }

  /** Takes `channel`'s card off the page and frees its charts. */
  #dropCard(channel: string): void {
    const e = this.#entries.get(channel);
    if (!e) return;
    this.#slots.unwatch(e.chart.card);
    this.#widths.unwatch(e.chart.card);
    e.chart.dispose();
    e.candles?.dispose();
    this.#entries.delete(channel);
  }

  /** The cards as ordered on the page: each channel, its title, span and whether it is hidden. */
  order(): Array<{ channel: string; title: string; span: number; hidden: boolean }> {
    return this.#elements().map(([channel, card]) => ({ channel, card })).sort((a, b) =>
      Number(a.card.style.order) - Number(b.card.style.order)
    ).map((x) => {
      const panel = this.#panels.find((p) => p.kind === "chart" && p.channels.includes(x.channel));
      return {
        channel: x.channel,
        title: panel?.title ?? "",
        span: Math.max(1, Math.round(panel?.layout.w ?? 1)),
        hidden: x.card.hidden === true,
      };
    });
  }

  /** Shows only the cards `filter` passes, in the fleet's order. */
  setFilter(filter: ChannelFilter): void {
    this.#filter = filter;
    this.reorder();
  }

  /** Takes the fleet's order again (the index's facts changed). */
  reorder(): void {
    const index = this.#options.index;
    if (index) this.#choose(index);
    this.#orderUnplaced();
    this.#virtualize();
    this.#options.onOrder?.();
  }

  /** A channel without a card sent samples: a new one has the order taken soon. */
  #unseen(channel: string): undefined {
    const index = this.#options.index;
    if (this.#soon || !index) return undefined;
    if (index.size === this.#known && index.knows(channel)) return undefined;
    this.#soon = true;
    setTimeout(() => {
      this.#soon = false;
      this.reorder();
    }, ORDER_SOON_MS);
    return undefined;
  }

  /**
   * Gives cards to the first channels of the fleet's order (the filter applied) as room allows:
   * when there is too little, the cards of channels it does not want make room, those furthest
   * down the order (unfiltered) first (`ChartGrid`'s note says which stay), for a channel that
   * is wrong now or that the filter asks for. A card the filter hides keeps its samples while
   * there is room.
   */
  #choose(index: ChannelIndex): void {
    this.#known = index.size;
    const placed = [...this.#entries.values()].filter((e) => e.chart.card.dataset.panel).length;
    const room = GRID_LIMITS.charts_max - placed;
    const wanted = new Set<string>();
    const order = index.order(this.#filter);
    for (const g of order) {
      for (const c of g.channels) if (wanted.size < room) wanted.add(c);
    }
    this.#wanted = wanted;
    const all = this.#filter === NO_FILTER ? order : undefined;
    const spare = this.#options.worker ? [] : this.#spare(index, wanted, all);
    // A channel takes a card from one the order no longer wants only when something is wrong
    // with it (an open incident, a sample out of its band) or the filter asks for it: the cards
    // do not change hands as in-band scores wander.
    const filtered = this.#filter !== NO_FILTER;
    // The order is set once, after the last card made (`reorder`), not after each.
    this.#choosing = true;
    try {
      for (const c of wanted) {
        if (this.#has(c)) continue;
        if (this.#slotCount() >= GRID_LIMITS.charts_max) {
          if (!filtered && !index.wrong(c)) continue;
          const victim = spare.pop();
          if (!victim) break;
          this.#free(victim);
        }
        this.#entry(c);
      }
    } finally {
      this.#choosing = false;
    }
  }

  /**
   * The cards the order does not want that may be taken off, the furthest down it last; `all`:
   * the order unfiltered, when the caller took it.
   */
  #spare(index: ChannelIndex, wanted: Set<string>, all = index.order(NO_FILTER)): string[] {
    const rank = new Map<string, number>();
    for (const g of all) for (const c of g.channels) rank.set(c, rank.size);
    const cards = [...this.#entries].filter(([c, e]) =>
      !wanted.has(c) && !e.chart.card.dataset.panel &&
      !e.chart.card.classList.contains("focused") && e.chart.source === "live"
    ).map(([c]) => c);
    const parked = this.#slots.placeholders().map(([c]) => c).filter((c) => !wanted.has(c));
    return [...cards, ...parked].sort((a, b) =>
      (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity)
    );
  }

  /** Each slot's channel and element: its card, or its placeholder. */
  #elements(): Array<[string, HTMLElement]> {
    const cards = [...this.#entries].map(([c, e]): [string, HTMLElement] => [c, e.chart.card]);
    return [...cards, ...this.#slots.placeholders()];
  }

  /**
   * Orders the cards no panel places after the panels' cards: by the index's groups and order,
   * else by channel name; hides the cards the filter does not pass (and those their panel hides).
   */
  #orderUnplaced(): void {
    const unplaced = this.#elements().filter(([, card]) => !card.dataset.panel).map(([c]) => c);
    const index = this.#options.index;
    const orders = index
      ? this.#heads.place(index.order(this.#filter, unplaced), this.#unplacedFrom)
      : new Map(unplaced.sort().map((c, i) => [c, this.#unplacedFrom + i]));
    for (const [channel, card] of this.#elements()) {
      const order = orders.get(channel);
      if (order !== undefined) setOrder(card, order);
      const passes = this.#filter.matches(channel, index?.labels(channel));
      const hidden = card.dataset.panelHidden === "1" || !passes;
      if (card.hidden !== hidden) card.hidden = hidden;
    }
  }

  /** The channels whose cards the filter shows, in the order shown (the tests read it). */
  shown(): string[] {
    return this.order().filter((c) => !c.hidden).map((c) => c.channel);
  }

  /** How many channels the filter passes of how many known (the cards' channels without an
   *  index). */
  counts(): { passing: number; known: number } {
    const index = this.#options.index;
    const all = index ? index.channels() : this.channels();
    const passing = all.filter((c) => this.#filter.matches(c, index?.labels(c))).length;
    return { passing, known: all.length };
  }

  /** Replaces the annotations drawn on the charts. */
  setAnnotations(list: Array<{ t: number; channel: string; text: string; color: string }>): void {
    this.#annotations = list;
    for (const [channel, e] of this.#entries) {
      e.chart.setAnnotations(list.filter((a) => a.channel === channel));
    }
  }

  /** Shows who looks at which chart: a dot in their colour on each card. */
  setWatchers(list: Array<{ name: string; color: string; chart: string | undefined }>): void {
    this.#watchers = list;
    for (const [channel, e] of this.#entries) this.#showWatchers(channel, e.chart);
  }

  #showWatchers(channel: string, chart: ChannelChart): void {
    chart.watchers.replaceChildren(
      ...this.#watchers.filter((w) => w.chart === channel).map((w) =>
        el("i", { style: `background:${w.color}`, title: w.name })
      ),
    );
  }

  /**
   * Lays the cards out by the session's chart panels (the others keep their order of arrival,
   * after them), creating the cards of the channels the panels name.
   */
  setPanels(panels: readonly Panel[]): void {
    const charts = panels.filter((p) => p.kind === "chart")
      .sort((a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x || (a.id < b.id ? -1 : 1));
    const placed = new Map<
      string,
      { order: number; title: string; span: number; hidden: boolean }
    >();
    charts.forEach((p, i) =>
      p.channels.forEach((c, k) => {
        if (!placed.has(c)) {
          placed.set(c, {
            order: i * 100 + k,
            title: p.title,
            span: Math.round(p.layout.w),
            hidden: p.hidden === true,
          });
        }
      })
    );
    for (const c of placed.keys()) this.#entry(c, true);
    this.#unplacedFrom = charts.length * 100;
    for (const [channel, e] of this.#entries) {
      const at = placed.get(channel);
      const card = e.chart.card;
      if (at) card.style.order = String(at.order);
      card.style.gridColumn = at && at.span > 1 ? `span ${at.span}` : "";
      card.dataset.panel = at ? "1" : "";
      card.dataset.panelHidden = at?.hidden === true ? "1" : "";
      e.chart.setTitle(at?.title);
    }
    this.#orderUnplaced();
    // A card whose width changed (its panel's w) has its charts sized when `#widths` says it.
    this.#panels = panels;
  }

  /**
   * Focuses the chart of `channel` at `tMs` (from the event list or the incidents panel), however
   * old: its card is created if the channel has none yet (its live data may be long gone, or not
   * come at all). With an incident, its span is shown, its band drawn and named in the legend.
   */
  focus(channel: string, tMs: number, incident?: Incident): void {
    for (const e of this.#entries.values()) e.chart.card.classList.remove("focused");
    const e = this.#entry(channel, true);
    e?.chart.focus(tMs, incident);
    e?.legend.focus(incident);
  }

  /**
   * Takes the stage's update of an incident (the incidents panel's): a card that draws it, opened
   * at it or from history, draws it as it is now and names it so in its legend.
   */
  incidentChanged(incident: Incident): void {
    for (const e of this.#entries.values()) {
      e.chart.incidentChanged(incident);
      e.legend.update(incident);
    }
  }

  /** Shows `range` (seconds since the epoch) on every chart, or follows the live edge (none). */
  showRange(range: { min: number; max: number } | undefined): void {
    this.#range = range;
    for (const e of this.#entries.values()) {
      if (range) e.chart.showRange(range);
      else e.chart.follow();
    }
  }
}
