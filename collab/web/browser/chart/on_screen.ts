/// <reference lib="dom" />
/**
 * Whether an element is on screen, as an IntersectionObserver last said: a live chart off screen
 * skips its drawing (the script time of a frame was the strips of 16 charts, of which a window
 * 1,000 px high shows a third) and repaints whole when it comes back into view.
 */

/** How far outside the viewport an element still counts as on screen. */
export const ON_SCREEN_MARGIN = "0px";

/** An element's visibility, kept up to date. */
export class OnScreen {
  /** Whether it is on screen: true until the browser says otherwise (and where it cannot tell). */
  on = true;
  #observer: IntersectionObserver | undefined;

  /** Watches `element`; `onShown` runs each time it comes back on screen. */
  constructor(element: Element, onShown: () => void) {
    if (typeof IntersectionObserver !== "function") return;
    this.#observer = new IntersectionObserver((entries) => {
      const on = entries[entries.length - 1]!.isIntersecting;
      if (on === this.on) return;
      this.on = on;
      if (on) onShown();
    }, { rootMargin: ON_SCREEN_MARGIN });
    this.#observer.observe(element);
  }

  /** Stops watching (the element is taken off the page). */
  stop(): void {
    this.#observer?.disconnect();
  }
}
