/// <reference lib="dom" />
/**
 * The box that filters the cards: label matchers and words (fleet/channel_filter.ts), applied as
 * the user types (after a pause of FILTER_PAUSE_MS, so a fleet's grid is not ordered once a key).
 * A filter that does not parse is said beside the box, with the character and what was expected,
 * and the cards stay as the last good filter left them; `Escape` clears it. It says how many
 * channels pass it of how many are known, and how many of those have cards.
 */
import { ProtocolError } from "../../../../protocol/mod.ts";
import { type ChannelFilter, parseChannelFilter } from "../fleet/mod.ts";
import { el } from "../dom.ts";

/** How long typing pauses before the filter is applied, ms. */
export const FILTER_PAUSE_MS = 150;

/** What the box filters. */
export interface FilterTarget {
  setFilter(filter: ChannelFilter): void;
  /** The cards shown (for the count beside the box). */
  shown(): string[];
  /** Channels the filter passes, of how many are known. */
  counts(): { passing: number; known: number };
}

/** The filter box, in `parent`. */
export class FilterBox {
  readonly input: HTMLInputElement;
  readonly #error = el("span", { class: "error filter-error", role: "status" });
  readonly #count = el("span", { class: "status filter-count" });
  readonly #target: FilterTarget;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(parent: HTMLElement, target: FilterTarget) {
    this.#target = target;
    this.input = el("input", {
      id: "channel-filter",
      type: "search",
      "aria-label": "filter channels",
      placeholder: 'filter: job="node" instance=~"db-.*" or a name',
      title: "Prometheus label matchers (= != =~ !~) and words found in a channel's name or " +
        "labels; all must hold. Escape clears it",
      size: "34",
    }) as HTMLInputElement;
    this.input.addEventListener("input", () => this.#later());
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape") return;
      this.input.value = "";
      this.apply();
    });
    parent.append(this.input, this.#error, this.#count);
  }

  #later(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.apply(), FILTER_PAUSE_MS);
  }

  /** Applies the box's text now (a bad one is said and left unapplied). */
  apply(): void {
    clearTimeout(this.#timer);
    let filter: ChannelFilter;
    try {
      filter = parseChannelFilter(this.input.value);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.input.setAttribute("aria-invalid", "true");
      this.#error.textContent = err.message;
      return;
    }
    this.input.removeAttribute("aria-invalid");
    this.#error.textContent = "";
    this.#target.setFilter(filter);
    this.count();
  }

  /** Says how many channels pass of how many, and how many of them have cards. */
  count(): void {
    const { passing, known } = this.#target.counts(), cards = this.#target.shown().length;
    const of = passing === known ? `${known} channels` : `${passing} of ${known} channels`;
    this.#count.textContent = cards < passing ? `${of}, the first ${cards} drawn` : of;
  }
}
