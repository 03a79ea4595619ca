/**
 * The incident a chart was opened at (from the incidents panel), kept true while the chart shows
 * it: the stage's updates of it (state, end, severity) replace it. While it is not resolved it is
 * still going on: its band reaches the chart's newest sample, and the chart's window, while it is
 * the incident's own (not a range the user chose since), goes on with the samples that come; once
 * it resolves, its window is its span with its margin (incidentWindow) and stays there.
 */
import { compareIncidentProgress, type Incident } from "../../../../protocol/mod.ts";
import { type IncidentBand, incidentBand, incidentWindow } from "./_chart_past.ts";

/** What an update did to an opened incident. */
export type OpenedUpdate = "none" | "updated" | "resolved";

export class OpenedIncident {
  #incident: Incident;
  /** Where the chart was opened (seconds): the window's start is measured from it. */
  readonly tS: number;
  /** The chart shows the incident's own window, not a range the user chose since. */
  windowed = true;

  constructor(incident: Incident, tS: number) {
    this.#incident = incident;
    this.tS = tS;
  }

  get incident(): Incident {
    return this.#incident;
  }

  /** Not resolved: it has no end yet. */
  get open(): boolean {
    return this.#incident.state !== "resolved";
  }

  /** The chart's window goes on with its samples: the incident's own window, still open. */
  get follows(): boolean {
    return this.windowed && this.open;
  }

  /** Takes `i` if it is this incident further along: `resolved` when this update resolved it. */
  update(i: Incident): OpenedUpdate {
    const was = this.#incident;
    if (i.id !== was.id || compareIncidentProgress(i, was) < 0) return "none";
    this.#incident = i;
    return was.state !== "resolved" && i.state === "resolved" ? "resolved" : "updated";
  }

  /** Its window (seconds) at `nowS`, the chart's newest sample, for a channel sampled every
   *  `stepS` seconds if known (incidentWindow). */
  window(nowS: number, stepS?: number): { min: number; max: number } {
    return incidentWindow(this.#incident, { tS: this.tS, nowS, ...(stepS ? { stepS } : {}) });
  }

  /** Its band (before `ongoingBands` runs an open one on to the newest sample). */
  band(): IncidentBand {
    return incidentBand(this.#incident);
  }
}
