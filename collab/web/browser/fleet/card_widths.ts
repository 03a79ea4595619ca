/// <reference lib="dom" />
/**
 * The grid's cards' widths, as a ResizeObserver says them after the browser laid the page out
 * (chart/chart_grid.ts sizes the cards' charts by them). A card's charts are as wide as its
 * content; reading `clientWidth` for that, as cards were built, freed and placed, laid the whole
 * page out again at each read, between the DOM writes around it (a fleet's reorder built a dozen
 * cards in one frame, two reads each). Here nothing is read from the layout: a card is built at
 * the width the last card said (the grid's columns are all as wide), and the observer, which says
 * each card's width after the frame's layout and before its paint, has the card's charts follow
 * any change (the window's size, a panel's span, the page's scroll bar), in one pass per frame.
 */

/** A card's content box is this much wider than its charts, CSS pixels. */
export const CARD_INSET_PX = 2;

export class CardWidths {
  readonly #observer: ResizeObserver | undefined;
  /** The charts' width the last card of one grid column said (a new card's first width). */
  #columnPx: number | undefined;

  /** Calls `onWidth` with a card and its charts' width each time the card's width changes. */
  constructor(onWidth: (card: Element, widthPx: number) => void) {
    if (typeof ResizeObserver !== "function") return;
    this.#observer = new ResizeObserver((entries) => {
      for (const e of entries) {
        const widthPx = Math.round(e.contentRect.width) - CARD_INSET_PX;
        // A hidden card (display: none) has no width: its charts keep theirs.
        if (widthPx <= 0) continue;
        if (!(e.target as HTMLElement).style.gridColumn) this.#columnPx = widthPx;
        onWidth(e.target, widthPx);
      }
    });
  }

  /** The width a card of one column is built at: the last one laid out said it (none before
   *  the first, or where the browser cannot say sizes). */
  get columnPx(): number | undefined {
    return this.#columnPx;
  }

  /** Follows `card`'s width (the observer says it once after the card's first layout). */
  watch(card: Element): void {
    this.#observer?.observe(card);
  }

  unwatch(card: Element): void {
    this.#observer?.unobserve(card);
  }
}
