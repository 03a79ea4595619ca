/**
 * Test support for the dashboard's browser suites that check what a chart writes on its canvas
 * (axis labels, incident labels): `recordDrawnText()` installs, before the page's own scripts,
 * a wrapper of `fillText` that records every text drawn on a canvas with where and how it was
 * drawn and the channel of the card holding the canvas, in the page's `drawn` (`PageDrawnText`).
 * A test reads it with `page.evaluate()`, alone or with the chart's state at the same moment.
 */
import type { Page } from "playwright-core";

/** One `fillText` call as the page made it. */
export interface DrawnText {
  text: string;
  /** The `data-channel` of the `.card` holding the canvas; null outside a card. */
  channel: string | null;
  /** Where, in canvas pixels (device pixels on a scaled canvas). */
  x: number;
  y: number;
  align: CanvasTextAlign;
  baseline: CanvasTextBaseline;
  /** The text's measured width and the font's size, in canvas pixels. */
  width: number;
  px: number;
  /** The canvas's left edge on the page (CSS pixels) and the page's device pixel ratio. */
  canvasLeft: number;
  dpr: number;
}

/** The page's globals `recordDrawnText()` keeps. */
export interface PageDrawnText {
  drawn: DrawnText[];
  /** The texts drawn on OffscreenCanvases (the live view paints its strips and labels on one,
   *  which no card holds), in order. */
  offscreen: string[];
}

/** Options of `recordDrawnText()`. */
export interface RecordDrawnTextOptions {
  /** Only texts matching it are recorded (all by default). */
  match?: RegExp;
}

/**
 * Records every text the page draws with `fillText` from its next load on, in `drawn`; call
 * before the page is loaded. Setting `drawn = []` in the page forgets what was recorded.
 */
export async function recordDrawnText(
  page: Page,
  options: RecordDrawnTextOptions = {},
): Promise<void> {
  await page.addInitScript((match: { source: string; flags: string } | null) => {
    const g = globalThis as unknown as PageDrawnText;
    const only = match === null ? null : new RegExp(match.source, match.flags);
    g.drawn = [];
    g.offscreen = [];
    const fillOff = OffscreenCanvasRenderingContext2D.prototype.fillText;
    OffscreenCanvasRenderingContext2D.prototype.fillText = function (text, x, y, w) {
      if ((only === null || only.test(text)) && g.offscreen.length < 100_000) {
        g.offscreen.push(text);
      }
      return fillOff.call(this, text, x, y, w);
    };
    const fill = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, x, y, w) {
      if (only === null || only.test(text)) {
        const canvas = this.canvas;
        const card = canvas.closest(".card") as HTMLElement | null;
        g.drawn.push({
          text,
          channel: card ? card.dataset.channel ?? "" : null,
          x,
          y,
          align: this.textAlign,
          baseline: this.textBaseline,
          width: this.measureText(text).width,
          px: parseFloat(this.font),
          canvasLeft: canvas.getBoundingClientRect().left,
          dpr: devicePixelRatio,
        });
      }
      return fill.call(this, text, x, y, w);
    };
  }, options.match ? { source: options.match.source, flags: options.match.flags } : null);
}
