/**
 * What a channel chart marks over its series, from the stream and the session: the anomaly
 * actor's markers, the collapse actor's change points (sorted by time, each with the means of the
 * regimes around it: regimes.ts) and the session's annotations, each list bounded. Both views draw
 * them: the live view (LiveOverlays) and uPlot's, pinned (_chart_draw.ts).
 */
import type { LiveMarker, LiveOverlays } from "../plot/mod.ts";

/** A change point's regime: the means before and after it and the level just before it. */
export interface ChangeRegime {
  meanBefore: number;
  meanAfter: number;
  levelBefore: number;
}

export class ChartMarkers implements LiveOverlays {
  readonly anomalies: LiveMarker[] = [];
  readonly changes: LiveMarker[] = [];
  annotations: LiveMarker[] = [];
  readonly #max: number;

  /** Keeps at most `max` markers of each kind (the newest). */
  constructor(max: number) {
    this.#max = max;
  }

  /** Adds an anomaly marker at `tS` (seconds) on `value`. */
  addAnomaly(tS: number, value: number, text: string): void {
    this.#push(this.anomalies, { t: tS, y: value, text, color: "#ff5d5d" });
  }

  /**
   * Adds a change point at `tS`, confirmed at `seenS` (seconds); returns the time from which what
   * is drawn changed: the regime before it now ends there, so from the change before it on.
   */
  addChange(tS: number, regime: ChangeRegime, seenS: number, text: string): number {
    const { meanBefore: before, meanAfter: y, levelBefore } = regime;
    const c = { t: tS, y, before, levelBefore, seen: seenS };
    this.#push(this.changes, { ...c, text, color: "#ffb347" });
    this.changes.sort((a, b) => a.t - b.t);
    const i = this.changes.findIndex((m) => m.t === tS);
    return this.changes[Math.max(0, i - 1)]!.t;
  }

  /** Replaces the annotations (`t` milliseconds since the epoch). */
  setAnnotations(list: ReadonlyArray<{ t: number; text: string; color: string }>): void {
    this.annotations = list.slice(-this.#max).map((a) => ({
      t: a.t / 1000,
      y: NaN,
      text: a.text,
      color: a.color,
    }));
  }

  #push(list: LiveMarker[], m: LiveMarker): void {
    list.push(m);
    if (list.length > this.#max) list.splice(0, list.length - this.#max);
  }
}
