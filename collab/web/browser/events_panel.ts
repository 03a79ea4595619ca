/// <reference lib="dom" />
/**
 * The event list: what the actors found (anomalies, collapse change points, coherence states), dead
 * letters and actor failures, newest first, bounded, with kind and severity filters. Severity is
 * the finding's 1-5 (collab/finding.ts), the number `troupe watch` prints; a time is shown with its
 * date when it is not today. Clicking an event focuses its channel's chart at the event's time.
 * Rows are kept in the order of the events' times, not of their arrival: what a fresh page's
 * snapshot or a resumed stream delivers late goes where it belongs, never above newer rows.
 */
import { findingTime } from "../../finding.ts";
import { byId, el, find } from "./dom.ts";

/** How severe an event is, 1 to 5, for the filter and the colour. */
export type Severity = number;

/** One row of the list. */
export interface DashboardEvent {
  kind: "anomaly" | "collapse" | "coherence" | "dead_letter" | "actor";
  /** The channel (or group, or stream) it is about. */
  channel: string;
  /** Milliseconds since the epoch. */
  t: number;
  severity: Severity;
  text: string;
}

/** Bounds of the list. */
export const EVENTS_LIMITS = { rows_max: 500 } as const;

export class EventsPanel {
  readonly #list: HTMLUListElement;
  readonly #kind: HTMLSelectElement;
  readonly #severity: HTMLSelectElement;
  readonly #onFocus: (channel: string, tMs: number) => void;
  /** Events added since the page started, by kind (tests read it). */
  readonly counts = new Map<string, number>();

  constructor(onFocus: (channel: string, tMs: number) => void) {
    const root = byId("events");
    this.#list = find<HTMLUListElement>(root, "ul");
    this.#kind = byId<HTMLSelectElement>("event-kind");
    this.#severity = byId<HTMLSelectElement>("event-severity");
    this.#onFocus = onFocus;
    this.#kind.addEventListener("change", () => this.#refilter());
    this.#severity.addEventListener("change", () => this.#refilter());
  }

  add(ev: DashboardEvent): void {
    this.counts.set(ev.kind, (this.counts.get(ev.kind) ?? 0) + 1);
    const time = findingTime(ev.t, Date.now());
    const li = el(
      "li",
      {
        class: `event sev-${ev.severity}`,
        "data-kind": ev.kind,
        "data-severity": ev.severity,
        "data-channel": ev.channel,
        "data-t": ev.t,
        title: "show on the chart",
      },
      `${time} ${ev.kind} ${ev.channel} severity ${ev.severity}: ${ev.text}`,
    );
    li.addEventListener("click", () => this.#onFocus(ev.channel, ev.t));
    li.hidden = !this.#shows(li);
    this.#list.insertBefore(li, this.#firstOlder(ev.t));
    while (this.#list.childElementCount > EVENTS_LIMITS.rows_max) {
      this.#list.lastElementChild!.remove();
    }
  }

  /** The first row older than `t` (rows are newest first; equal times keep arrival order). */
  #firstOlder(t: number): Element | null {
    for (let row = this.#list.firstElementChild; row; row = row.nextElementSibling) {
      if (Number((row as HTMLElement).dataset.t) < t) return row;
    }
    return null;
  }

  #shows(li: HTMLElement): boolean {
    const kind = this.#kind.value, sev = Number(this.#severity.value || 0);
    if (kind && li.dataset.kind !== kind) return false;
    if (Number(li.dataset.severity) < sev) return false;
    return true;
  }

  #refilter(): void {
    for (const li of this.#list.children) {
      (li as HTMLElement).hidden = !this.#shows(li as HTMLElement);
    }
  }
}
