/// <reference lib="dom" />
/**
 * A channel card's header: its title (the session's panel title with the channel), its unit (in
 * the header and over the value labels: said once per card in the DOM, so that neither the live
 * view nor uPlot draws anything more per frame for it), the buttons that move the range shown
 * (`live`, `«`, `»`), the market quote the card's candles write, the value at the shared
 * crosshair's time and who looks at the card.
 */
import { siValue } from "../plot/mod.ts";
import { el } from "../dom.ts";

/** What a header is made for: its channel and unit, and what its buttons do. */
export interface ChartHeaderOptions {
  channel: string;
  unit: string;
  /** `live`: follow the live edge again. */
  follow(): void;
  /** `«` / `»`: move the range shown by a fraction of its width (negative: earlier). */
  pan(fraction: number): void;
}

export class ChartHeader {
  /** The `h3` of the card. */
  readonly element: HTMLElement;
  /** The unit over the value labels, placed in the plot's box by the chart. */
  readonly yUnit: HTMLElement;
  /** The market quote (last, change, bar size), written by the card's candles. */
  readonly quote: HTMLElement = el("span", { class: "quote" });
  /** The value at the shared crosshair's time. */
  readonly readout: HTMLElement = el("span", { class: "readout" });
  /** Who looks at the card: a dot each (ChartGrid.setWatchers). */
  readonly watchers: HTMLElement = el("span", { class: "watchers" });
  readonly #channel: string;
  readonly #title: HTMLElement;
  readonly #unit: HTMLElement;
  /** A market's card (it has candles): its axis says `price` while its unit is unknown. */
  #market = false;

  constructor(options: ChartHeaderOptions) {
    this.#channel = options.channel;
    const live = el("button", { class: "live", title: "follow the live edge" }, "live");
    live.addEventListener("click", () => options.follow());
    const earlier = el("button", { class: "pan", "data-pan": "-0.5", title: "earlier" }, "«");
    const later = el("button", { class: "pan", "data-pan": "0.5", title: "later" }, "»");
    earlier.addEventListener("click", () => options.pan(-0.5));
    later.addEventListener("click", () => options.pan(0.5));
    this.yUnit = el("span", { class: "y-unit" }, options.unit);
    this.#title = el("span", { class: "title" }, options.channel);
    const unit = el("span", { class: "unit", title: "unit" }, options.unit);
    this.#unit = unit;
    this.element = el(
      "h3",
      {},
      this.#title,
      unit,
      live,
      earlier,
      later,
      this.quote,
      this.readout,
      this.watchers,
    );
  }

  /** Titles the card: the session's panel title with the channel, or the channel alone. */
  setTitle(title: string | undefined): void {
    this.#title.textContent = title ? `${title} · ${this.#channel}` : this.#channel;
  }

  /** Writes `unit` wherever the card says its unit. */
  setUnit(unit: string): void {
    this.#unit.textContent = unit;
    this.yUnit.textContent = this.#axisUnit(unit);
  }

  /** Marks the card a market's: a price's currency is not in a symbol's name, so its axis says
   *  `price` rather than nothing until the session sets a unit. A channel named as a metric is
   *  not a market's, whatever bars it has (`isMarketName`). */
  setMarket(unit: string): void {
    this.#market = isMarketName(this.#channel);
    this.yUnit.textContent = this.#axisUnit(unit);
  }

  /** What the value axis says now (`price` on a market's card without a unit). */
  get axisUnit(): string {
    return this.yUnit.textContent ?? "";
  }

  /** What the value axis says for `unit`. */
  #axisUnit(unit: string): string {
    return unit === "" && this.#market ? "price" : unit;
  }

  /** Shows the value `at` (seconds, the value) in `unit`, or nothing for undefined. */
  showValue(at: { t: number; v: number } | undefined, unit: string): void {
    if (!at) {
      this.readout.textContent = "";
      return;
    }
    const time = new Date(Math.round(at.t * 1000)).toISOString().slice(11, 21);
    this.readout.textContent = `${time} ${siValue(at.v, unit)}`;
    this.readout.dataset.value = String(at.v);
    this.readout.dataset.t = String(at.t);
  }
}

/**
 * Whether `channel` is named as a market's symbol (`BTC`, `SYM001`, `eu-AAPL`), not as a metric: a
 * metric's name has words joined by `_` (Prometheus's `node_network_info`, troupe's
 * `queue_depth`), a symbol none. The bars actor makes bars of every channel, so bars alone do
 * not make a card a market's.
 */
export function isMarketName(channel: string): boolean {
  return !channel.slice(channel.lastIndexOf("-") + 1).includes("_");
}
