/// <reference lib="dom" />
/**
 * The grid's slots whose cards are not built, and which slots are near the screen. Past
 * `built_all_max` slots, the grid (chart/chart_grid.ts) builds a card's DOM and charts only while
 * its slot is on screen or within `near_px` of it: every card built held its canvases' layers,
 * and the browser's rendering of each frame went over all of a fleet's cards while a window shows
 * a few of them. A slot off screen is a placeholder of a card's height in the card's place (its
 * CSS order, hidden as the card would be), so the page scrolls as if every card were there;
 * scrolling builds the cards that come near and frees those that leave. An IntersectionObserver
 * says which slots are near, after the layout of the frame that moved them.
 */
import { el } from "../dom.ts";

/**
 * Bounds of the slots: when cards are built only near the screen, how near, a slot's height
 * before a card's was measured, and how many cards coming near are built in one turn: at least
 * one, no more than `build_max`, and no more once `build_ms` went to them; the rest wait for the
 * next animation frame, the top ones first. A jump of the page (a scroll by a screen, groups
 * moved by an out-of-band series or an incident) brings a window's dozen cards at once, which
 * built in one go held a frame for tens of milliseconds. The time is the message routing's share
 * of a frame (route_slicer.ts, `frame_ms`); the count bounds what that clock does not see, each
 * new card's chart committed, its first whole paint and its canvases' first resources, which
 * come after the turn and cost about as much again as its build (`troupe bench dashboard
 * --fleet-out`).
 */
export const SLOT_LIMITS = {
  built_all_max: 16,
  near_px: 200,
  height_px: 240,
  build_ms: 8,
  build_max: 2,
} as const;

export class CardSlots {
  readonly #root: HTMLElement;
  readonly #placeholders = new Map<string, HTMLElement>();
  /** The elements watched and whether each is near the screen (undefined: not said yet). */
  readonly #near = new Map<Element, boolean | undefined>();
  readonly #observer: IntersectionObserver | undefined;
  #heightPx: number = SLOT_LIMITS.height_px;
  #measured = false;

  /** Slots in `root`; `onChange` runs when slots came near the screen or left it. */
  constructor(root: HTMLElement, onChange: () => void) {
    this.#root = root;
    if (typeof IntersectionObserver !== "function") return;
    this.#observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (this.#near.has(e.target)) this.#near.set(e.target, e.isIntersecting);
      }
      onChange();
    }, { rootMargin: `${SLOT_LIMITS.near_px}px 0px` });
  }

  /** Whether the browser can say which slots are near (else every card is built). */
  get available(): boolean {
    return this.#observer !== undefined;
  }

  /** Slots with a placeholder. */
  get size(): number {
    return this.#placeholders.size;
  }

  /** Watches a slot's element, its card or its placeholder. */
  watch(element: Element): void {
    if (!this.#observer) return;
    this.#near.set(element, undefined);
    this.#observer.observe(element);
  }

  unwatch(element: Element): void {
    if (!this.#observer) return;
    this.#near.delete(element);
    this.#observer.unobserve(element);
  }

  /** Whether `element` is near the screen: undefined until the browser said. */
  near(element: Element): boolean | undefined {
    return this.#near.get(element);
  }

  /** The placeholder of `channel`'s slot, while its card is not built. */
  placeholder(channel: string): HTMLElement | undefined {
    return this.#placeholders.get(channel);
  }

  /** The channels whose slots hold a placeholder, with it. */
  placeholders(): Array<[string, HTMLElement]> {
    return [...this.#placeholders];
  }

  /**
   * Puts a placeholder in `channel`'s slot: in `card`'s place, when given (the caller then takes
   * the card off), else at the end until the grid orders it.
   */
  park(channel: string, card?: HTMLElement): HTMLElement {
    // Measured once: a read after the last card taken off would lay the page out again each time.
    if (card && !this.#measured && card.offsetHeight > 0) {
      this.#heightPx = card.offsetHeight;
      this.#measured = true;
    }
    const slot = el("div", { class: "card-slot", "data-channel": channel }, channel);
    slot.style.height = `${this.#heightPx}px`;
    if (card) {
      slot.style.order = card.style.order;
      slot.hidden = card.hidden;
    }
    this.#root.append(slot);
    this.#placeholders.set(channel, slot);
    this.watch(slot);
    return slot;
  }

  /** Takes `channel`'s placeholder off the page (its card is built, or its slot given up). */
  unpark(channel: string): HTMLElement | undefined {
    const slot = this.#placeholders.get(channel);
    if (!slot) return undefined;
    this.unwatch(slot);
    slot.remove();
    this.#placeholders.delete(channel);
    return slot;
  }
}
