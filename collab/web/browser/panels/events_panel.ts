/// <reference lib="dom" />
/**
 * The event list: what the actors found (anomalies, collapse change points, coherence states), dead
 * letters and actor failures, newest first, bounded, with kind and severity filters. A row is the
 * line `troupe watch --findings` prints for the finding (collab/findings/finding.ts's
 * formatFinding), but for its time, shown without its date when it is today; its kind and severity
 * are the finding's,
 * filtered as `--kinds` and `--min-severity` filter. Clicking an event focuses its channel's chart
 * at the event's time.
 * Rows are kept in the order of the events' times, not of their arrival: what a fresh page's
 * snapshot or a resumed stream delivers late goes where it belongs, never above newer rows.
 */
import { type Finding, formatFinding, severityAtLeast } from "../../../findings/mod.ts";
import { findingKinds } from "../../../../protocol/mod.ts";
import { byId, el, find } from "../dom.ts";

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
    this.#addDeclaredKinds();
    this.#kind.addEventListener("change", () => this.#refilter());
    this.#severity.addEventListener("change", () => this.#refilter());
  }

  /** A filter option for each declared kind of finding the page's shell does not list. */
  #addDeclaredKinds(): void {
    const listed = new Set([...this.#kind.options].map((o) => o.value));
    const before = [...this.#kind.options].find((o) => o.value === "dlq") ?? null;
    for (const k of findingKinds()) {
      if (!listed.has(k.type)) this.#kind.insertBefore(el("option", {}, k.type), before);
    }
  }

  add(f: Finding): void {
    this.counts.set(f.kind, (this.counts.get(f.kind) ?? 0) + 1);
    const t = f.ts_us / 1000;
    const li = el(
      "li",
      {
        class: `event sev-${f.severity ?? "none"}`,
        "data-kind": f.kind,
        "data-severity": f.severity ?? "",
        "data-channel": f.channel,
        "data-t": t,
        title: "show on the chart",
      },
      formatFinding(f, { nowMs: Date.now() }),
    );
    li.addEventListener("click", () => this.#onFocus(f.channel, t));
    li.hidden = !this.#shows(li);
    this.#list.insertBefore(li, this.#firstOlder(t));
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
    const own = li.dataset.severity ? Number(li.dataset.severity) : null;
    return severityAtLeast(own, sev);
  }

  #refilter(): void {
    for (const li of this.#list.children) {
      (li as HTMLElement).hidden = !this.#shows(li as HTMLElement);
    }
  }
}
