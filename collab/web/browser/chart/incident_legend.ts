/// <reference lib="dom" />
/**
 * A card's incident legend, under its line chart while it shows a range: one entry per incident
 * drawn as a band (the history answer's, and the one the card was opened at from the incidents
 * panel), in its colour, saying its kind, peak severity, state and id; the whole incident line
 * (`troupe incidents`' text, incident_line.ts) is the entry's tooltip. The incident opened at is
 * marked `focused`. Empty (and hidden) while the card follows live.
 */
import type { Incident } from "../../../../protocol/mod.ts";
import { formatIncident } from "../../../findings/mod.ts";
import { el } from "../dom.ts";

/** Entries one legend shows at most (the newest). */
export const INCIDENT_LEGEND_MAX = 8;

export class IncidentLegend {
  readonly element: HTMLElement = el("div", { class: "incident-legend", hidden: true });
  #past: readonly Incident[] = [];
  #focused: Incident | undefined;

  /** The incidents of the history answer shown (none: the card left history). */
  history(list: readonly Incident[] | undefined): void {
    this.#past = list ?? [];
    this.render();
  }

  /**
   * The incident the card was opened at (undefined: none, or the card follows live again). A
   * card following live says none every frame it draws: with none already, nothing is written
   * (rewriting the empty legend and its `hidden` made Chromium recompute the page's style every
   * frame, for every card).
   */
  focus(incident: Incident | undefined): void {
    if (incident === undefined && this.#focused === undefined) return;
    this.#focused = incident;
    this.render();
  }

  /** Takes the stage's update of an incident: an entry of it says what it is now. */
  update(incident: Incident): void {
    const f = this.#focused, listed = this.#past.some((i) => i.id === incident.id);
    if (f?.id !== incident.id && !listed) return;
    if (f?.id === incident.id) this.#focused = incident;
    if (listed) this.#past = this.#past.map((i) => i.id === incident.id ? incident : i);
    this.render();
  }

  /** Rebuilds the entries (a few at most). */
  render(): void {
    const f = this.#focused;
    const all = f && !this.#past.some((i) => i.id === f.id) ? [...this.#past, f] : this.#past;
    const shown = all.slice(-INCIDENT_LEGEND_MAX);
    const nowMs = Date.now();
    this.element.replaceChildren(...shown.map((i) => {
      const fromHistory = this.#past.some((p) => p.id === i.id);
      return el(
        "span",
        {
          class: `incident-entry kind-${i.kind}${i.id === f?.id ? " focused" : ""}`,
          "data-id": i.id,
          "data-history": fromHistory ? "1" : "0",
          title: formatIncident(i, i.first_us, { nowMs }),
        },
        `▮ ${i.kind} sev ${i.peak_severity} ${i.state} · ${i.id}`,
      );
    }));
    this.element.hidden = shown.length === 0;
  }
}
