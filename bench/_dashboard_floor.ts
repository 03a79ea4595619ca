/// <reference lib="dom" />
/**
 * `troupe bench dashboard --modes troupe,floor`: the floor under the dashboard's frame time in this
 * browser, measured on the dashboard's own page.
 *
 * The page is troupe's, opened and filled the same way; then no update is sent through the
 * gateway, and the page's 16 live-view canvases (`canvas.live-plot`, as laid out by the charts)
 * are driven by the least a scrolling chart can do per update: in one animation frame, each
 * paints a strip of new columns into a ring the width of its plot and copies the ring's two halves
 * to its canvas (the live plot's own method, see `collab/web/browser/plot/live_plot.ts`, without
 * the scales, band, lines, axes or any message handling). Each frame is timed as FrameLoop times
 * troupe's (from the animation frame callback to the first task after the frame's rendering), so
 * the two figures compare: what the floor takes is the browser rasterizing and compositing 16
 * changed canvases, which with `--disable-gpu` (the charter's flags) is done in software.
 */
import type { Page } from "playwright-core";

/** The live view's plot rectangle inside its canvas, CSS pixels (channel_chart.ts's margins). */
const PLOT_MARGINS_CSS = { left: 50, top: 10, right: 12, bottom: 26 } as const;

/** One floor run: each frame's time and its script part (the painting alone), milliseconds. */
export interface FloorFrames {
  times: number[];
  scripts: number[];
  /** How many live-view canvases were painted each frame. */
  canvases: number;
}

/**
 * Drives the live-view canvases of `page` (troupe's page, filled) for `updates` frames, `rate` a
 * second; each frame scrolls each plot by what `points` new samples take in a window of `span`
 * samples across its width (as the live plot would), at least one column.
 */
export async function floorFrames(
  page: Page,
  s: { updates: number; rate: number; points: number; span: number },
): Promise<FloorFrames> {
  // Under tsx (the tests' loader) the function's inner functions keep their names through an
  // esbuild helper, `__name`, which the page does not have: give it one that does nothing.
  await page.evaluate("globalThis.__name ??= (f) => f");
  return await page.evaluate(floorLoop, [s, PLOT_MARGINS_CSS] as const);
}

/** Runs in the page (self-contained: it is serialized by Playwright). */
function floorLoop(
  [{ updates, rate, points, span }, margins]: readonly [
    { updates: number; rate: number; points: number; span: number },
    typeof PLOT_MARGINS_CSS,
  ],
): Promise<FloorFrames> {
  const dpr = devicePixelRatio;
  const views = [...document.querySelectorAll<HTMLCanvasElement>("canvas.live-plot")].map((c) => {
    const out = c.getContext("2d");
    const left = Math.round(margins.left * dpr), top = Math.round(margins.top * dpr);
    const width = c.width - left - Math.round(margins.right * dpr);
    const height = c.height - top - Math.round(margins.bottom * dpr);
    const ring = new OffscreenCanvas(Math.max(1, width), Math.max(1, height));
    const ctx = ring.getContext("2d");
    if (!out || !ctx) throw new Error("the floor needs the live views' 2d contexts");
    // Start from what the chart shows, so the copies move a real picture.
    ctx.drawImage(c, left, top, ring.width, ring.height, 0, 0, ring.width, ring.height);
    ctx.strokeStyle = "#4aa3ff";
    const columns = Math.max(1, Math.round(points * ring.width / span));
    return { out, ring, ctx, left, top, columns, shift: 0, y: ring.height / 2, k: 0 };
  });
  if (views.length === 0) {
    throw new Error("the floor found no live-view canvas (canvas.live-plot) on the page");
  }
  const times: number[] = [], scripts: number[] = [];
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    let t0 = 0, script = 0, done = 0;
    const start = performance.now();
    const paint = () => {
      t0 = performance.now();
      for (const v of views) {
        const w = v.ring.width, h = v.ring.height, x = v.shift, columns = v.columns;
        // The strip: cleared, then a line segment over its columns (two passes where it wraps).
        for (const at of x + columns > w ? [x, x - w] : [x]) {
          v.ctx.clearRect(at, 0, columns, h);
          const y1 = h / 2 + Math.sin(++v.k / 7) * h / 4;
          v.ctx.beginPath();
          v.ctx.moveTo(at, v.y);
          v.ctx.lineTo(at + columns, y1);
          v.ctx.stroke();
          v.y = y1;
        }
        v.shift = (x + columns) % w;
        // The canvas gets the ring's halves in order: columns [shift, w), then [0, shift).
        v.out.clearRect(v.left, v.top, w, h);
        v.out.drawImage(v.ring, v.shift, 0, w - v.shift, h, v.left, v.top, w - v.shift, h);
        if (v.shift > 0) {
          v.out.drawImage(v.ring, 0, 0, v.shift, h, v.left + w - v.shift, v.top, v.shift, h);
        }
      }
      script = performance.now() - t0;
      channel.port2.postMessage(0);
    };
    channel.port1.onmessage = () => {
      times.push(performance.now() - t0);
      scripts.push(script);
      if (++done >= updates) {
        channel.port1.close();
        resolve({ times, scripts, canvases: views.length });
        return;
      }
      const wait = start + done * 1000 / rate - performance.now();
      setTimeout(() => requestAnimationFrame(paint), Math.max(0, wait));
    };
    requestAnimationFrame(paint);
  });
}
