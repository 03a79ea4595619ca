/**
 * The live view's scales: where the plot sits in the canvas (device pixels), its time scale
 * (pixels per second and the time at the plot's right edge), its value range, and the tick steps
 * that go with them. A whole repaint takes fresh scales from the window (`fit`, then `take`);
 * strips keep them, so that what they paint joins the picture already there.
 */
import { DECIMATE_COLUMNS } from "./decimate.ts";
import { LIVE_STYLE, type PlotRect } from "./_live_style.ts";
import { timeStep } from "./time_labels.ts";

/** The scales a whole repaint takes from a window: the padded y range and pixels per second. */
export interface Fit {
  yMin: number;
  yMax: number;
  k: number;
}

export class LiveScales {
  rect: PlotRect = { left: 0, top: 0, width: 0, height: 0 };
  dpr = 1;
  /** Pixels per second, and the time at the plot's right edge. */
  k = NaN;
  tR = NaN;
  yMin = NaN;
  yMax = NaN;
  /** The time between time ticks (seconds) and the value between value ticks. */
  xStep = 1;
  yStep = 1;

  /** The canvas column (device pixels) of time `t`. */
  x(t: number): number {
    return this.rect.left + this.rect.width - (this.tR - t) * this.k;
  }

  /** The canvas row (device pixels) of value `v`. */
  y(v: number): number {
    const { top, height } = this.rect;
    return top + height - ((v - this.yMin) / (this.yMax - this.yMin)) * height;
  }

  /** The time at canvas column `x` (device pixels). */
  tAt(x: number): number {
    return this.tR - (this.rect.left + this.rect.width - x) / this.k;
  }

  /** The scales a whole repaint takes from the window `cols` (time, then the value columns). */
  fit(cols: readonly Float64Array[]): Fit {
    const t = cols[0]!;
    const n = t.length;
    let lo = Infinity, hi = -Infinity;
    for (let c = 1; c < DECIMATE_COLUMNS; c++) {
      const col = cols[c]!;
      for (let i = 0; i < n; i++) {
        const y = col[i]!;
        if (y < lo) lo = y;
        if (y > hi) hi = y;
      }
    }
    if (!(hi > lo)) {
      const mid = Number.isFinite(lo) ? lo : 0;
      lo = mid - 1;
      hi = mid + 1;
    }
    const pad = (hi - lo) * LIVE_STYLE.y_pad;
    const span = t[n - 1]! - t[0]! > 0 ? t[n - 1]! - t[0]! : 1;
    return { yMin: lo - pad, yMax: hi + pad, k: this.rect.width / span };
  }

  /** Takes `fit` with `tR` at the plot's right edge, and the tick steps that go with them. */
  take(fit: Fit, tR: number): void {
    this.yMin = fit.yMin;
    this.yMax = fit.yMax;
    this.k = fit.k;
    this.tR = tR;
    // The steps of uPlot's time axes (time_labels.ts): the candles under a live line tick with it.
    this.xStep = timeStep(this.k / this.dpr, LIVE_STYLE.x_space_px);
    this.yStep = niceStep(
      ((this.yMax - this.yMin) * LIVE_STYLE.y_space_px * this.dpr) / this.rect.height,
    );
  }

  /** Whether `fit` differs enough from the scales taken to repaint for it (a refresh). */
  differs(fit: Fit): boolean {
    const span = this.yMax - this.yMin;
    return fit.yMin < this.yMin || fit.yMax > this.yMax ||
      span > (1 + LIVE_STYLE.refresh_slack) * (fit.yMax - fit.yMin) ||
      !(Math.abs(fit.k / this.k - 1) <= LIVE_STYLE.refresh_k_share);
  }
}

/** The least of 1, 2 or 5 times a power of ten that is at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}
