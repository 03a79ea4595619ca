/// <reference lib="dom" />
/**
 * The live view's band and lines of a whole repaint, rasterized in script: `paintColumns`
 * (`_live_marks.ts`) fills one whole-pixel rectangle per column and series, and a whole repaint
 * of a chart is about a thousand of them, which Chromium records as as many canvas operations and
 * rasterizes one by one when the ring is next copied (a frame with a periodic refresh cost more
 * script than the others, nearly all of it in that copy). Here the same
 * rectangles are written into an image's pixels (each overwrites what is under it, as an opaque
 * rectangle does; the band, the only translucent one, is written first), and the image is drawn
 * onto the ring in one operation, over the grid, as the rectangles were. A strip's few
 * rectangles stay canvas operations.
 */

/** What `paintColumns` fills with: a 2d context, or a ColumnRaster. */
export interface ColumnTarget {
  fillStyle: string | CanvasGradient | CanvasPattern;
  fillRect(x: number, y: number, w: number, h: number): void;
}

/** Rows the raster keeps below the plot: a line at the plot's bottom edge reaches into them. */
export const RASTER_ROWS_BELOW = 2;

/** Whole-pixel rectangles written into an image over a plot rectangle, in canvas coordinates. */
export class ColumnRaster implements ColumnTarget {
  #canvas: OffscreenCanvas = new OffscreenCanvas(1, 1);
  #image: ImageData = new ImageData(1, 1);
  #px = new Uint32Array(this.#image.data.buffer);
  #left = 0;
  #top = 0;
  #color = 0;
  #style = "";
  readonly #colors = new Map<string, number>();

  /** Starts an empty image over the canvas's columns from `left` and rows from `top`, of
   *  `width` by `height` pixels (sized again only when that changes). */
  begin(left: number, top: number, width: number, height: number): void {
    this.#left = left;
    this.#top = top;
    if (this.#image.width !== width || this.#image.height !== height) {
      this.#image = new ImageData(Math.max(1, width), Math.max(1, height));
      this.#px = new Uint32Array(this.#image.data.buffer);
      this.#canvas = new OffscreenCanvas(this.#image.width, this.#image.height);
    } else this.#px.fill(0);
  }

  get fillStyle(): string {
    return this.#style;
  }

  /** A colour as `#rrggbb` or `rgba(r, g, b, a)` (the live view's styles). */
  set fillStyle(style: string | CanvasGradient | CanvasPattern) {
    if (typeof style !== "string") throw new Error("ColumnRaster fills with colours only");
    this.#style = style;
    let c = this.#colors.get(style);
    if (c === undefined) this.#colors.set(style, c = rgbaWord(style));
    this.#color = c;
  }

  /** Fills the rectangle (whole pixels) with the colour, over what is there. */
  fillRect(x: number, y: number, w: number, h: number): void {
    const iw = this.#image.width, ih = this.#image.height;
    const x0 = Math.max(0, x - this.#left), x1 = Math.min(iw, x + w - this.#left);
    const y0 = Math.max(0, y - this.#top), y1 = Math.min(ih, y + h - this.#top);
    const px = this.#px, color = this.#color;
    for (let row = y0; row < y1; row++) {
      const at = row * iw;
      for (let col = x0; col < x1; col++) px[at + col] = color;
    }
  }

  /** The image as a canvas to draw at the `left` and `top` begun with. */
  canvas(): OffscreenCanvas {
    const ctx = this.#canvas.getContext("2d");
    if (!ctx) throw new Error("Cannot rasterize the live chart: no 2d context");
    ctx.putImageData(this.#image, 0, 0);
    return this.#canvas;
  }
}

/** `#rrggbb` or `rgba(r, g, b, a)` as an ImageData pixel (RGBA bytes, little-endian word). */
export function rgbaWord(style: string): number {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(style);
  const fn = /^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)$/.exec(style);
  let rgba: number[];
  if (hex) rgba = [...hex.slice(1, 4).map((h) => parseInt(h, 16)), 255];
  else if (fn) {
    rgba = [Number(fn[1]), Number(fn[2]), Number(fn[3]), Math.round(Number(fn[4] ?? 1) * 255)];
  } else throw new Error(`ColumnRaster takes #rrggbb or rgba() colours, got ${style}`);
  const [r, g, b, a] = rgba.map((v) => Math.min(255, Math.max(0, v))) as [
    number,
    number,
    number,
    number,
  ];
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}
