/// <reference lib="dom" />
/**
 * The incidents panel: the incidents the stage publishes on `troupe.out.incident.<kind>` (each
 * update carries the whole incident, so the last one of an id is the incident), newest first, each
 * the line `troupe incidents` prints for it (collab/findings/incident_line.ts: time of its first
 * finding, state, kind, members, peak severity, findings, id) with the session's marks: silenced
 * (by the stage, or by a silence of the session in force now that matches it, so a silence one
 * editor adds shows at once in everyone's view), acknowledged (by whom). Editors get an ack button
 * per incident, a silence button that fills the silence form (silence_form.ts: matchers from the
 * incident, a duration, a reason, each editable and checked) and the session's silences with an
 * unsilence button each; a viewer sees the form disabled, no buttons, and "read-only".
 * Clicking an incident focuses its first channel's chart on its span, however old, the incident
 * drawn there as a band and named in the card's legend. A row's line is the line
 * `troupe watch` and `troupe incidents` print, whole (ids and all: one line per finding wherever it
 * is read), never cut: the ack and silence marks at its end are what an editor's press changes.
 * The ack button asks for an optional note (a field under the row: Enter or `ok` acknowledges,
 * Escape or `cancel` does not). The incident list scrolls in a box of its own, so that the silence
 * form, its error and the silences below it stay in the panel's view; a refusal or a prefill
 * scrolls the form into view as well.
 * A fresh page starts from the collab server's incidents (`GET /incidents`: the stage's list and
 * the updates since, collab/history/incident_list_service.ts), not only from what the stream's
 * recent buffer holds; of two copies of an id the one further along is shown
 * (compareIncidentProgress),
 * so a buffered update older than the list's copy never takes its place.
 * A row whose series have labels (the channel record) names them first, as an SRE reads them:
 * `node_load1{instance="a:9100", job="node"}`, the first SERIES_SHOWN_MAX of its members by
 * their labels and `+N more`, above the line.
 */
import {
  compareIncidentProgress,
  decodeIncident,
  decodeIncidentList,
  type Incident,
  silenceActive,
  silenceMatches,
} from "../../../../protocol/mod.ts";
import { ackMarks, findingTime, formatIncident } from "../../../findings/mod.ts";
import { SessionIncidents, silenceOfEntry } from "../../../session/mod.ts";
import { byId, el, find } from "../dom.ts";
import { readOnlyNote } from "./readonly_note.ts";
import type { SessionLink } from "../link/mod.ts";
import { SilenceForm, type SilenceFormValue } from "./silence_form.ts";
import type { Label } from "../../../../protocol/prometheus/mod.ts";
import { seriesName } from "../fleet/mod.ts";

/** Members a row names by their labels, at most; the rest are counted (`+N more`). */
export const SERIES_SHOWN_MAX = 2;

/** Bounds of the panel. */
export const INCIDENTS_PANEL_LIMITS = { incidents_max: 200 } as const;

/** Characters an ack's note may have (the field refuses more). */
const ACK_NOTE_MAX = 200;

/** What the panel tells the page. */
export interface IncidentsPanelOptions {
  /** An incident was clicked: open its first channel at its first finding (milliseconds). */
  onFocus(channel: string, tMs: number, incident: Incident): void;
  /** An incident changed (an update further along than the copy shown): a chart opened at it,
   *  or drawing it from history, shows it as it is now. */
  onChange?(incident: Incident): void;
  /** The labels of a channel (the channel record), to name a row's series by. */
  labels?(channel: string): readonly Label[] | undefined;
}

export class IncidentsPanel {
  readonly #link: SessionLink;
  readonly #inc: SessionIncidents;
  readonly #list: HTMLElement;
  readonly #silences: HTMLElement;
  readonly #error = el("div", { class: "error" });
  readonly #incidents = new Map<string, Incident>();
  readonly #options: IncidentsPanelOptions;
  readonly #form: SilenceForm;
  #scheduled = false;
  /** The note asked for before an ack: its field, and the incident it is for (none: hidden). */
  readonly #note = el("input", {
    name: "ack-note",
    "aria-label": "ack note",
    placeholder: "note (optional), Enter to ack",
    maxlength: ACK_NOTE_MAX,
  });
  readonly #noteRow: HTMLElement;
  #noting: string | undefined;

  constructor(
    link: SessionLink,
    options: IncidentsPanelOptions,
  ) {
    this.#link = link;
    this.#inc = new SessionIncidents(link.doc);
    this.#options = options;
    const root = byId("incidents");
    this.#list = find(root, "ul.incident-list");
    this.#silences = find(root, "ul.silence-list");
    this.#form = new SilenceForm(link.canWrite, (v) => this.#silence(v));
    find(root, ".editor").append(...readOnlyNote(link.canWrite), this.#error);
    this.#silences.before(this.#form.element);
    this.#noteRow = el(
      "div",
      { class: "ack-note" },
      this.#note,
      this.#button("ack-confirm", () => this.#acknowledge(), "ok"),
      this.#button("ack-cancel", () => this.#askNote(undefined), "cancel"),
    );
    this.#note.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        this.#noteRow.querySelector<HTMLButtonElement>(".ack-confirm")!.click();
      } else if (e.key === "Escape") this.#askNote(undefined);
    });
    this.#noteRow.addEventListener("click", (e) => e.stopPropagation());
    this.#inc.silences.observe(() => this.#schedule());
    this.#inc.acks.observe(() => this.#schedule());
    this.render();
  }

  /** The incident `id` as the panel holds it, if it does. */
  get(id: string): Incident | undefined {
    return this.#incidents.get(id);
  }

  /** An update on `troupe.out.incident.<kind>`; anything else is passed over. */
  take(data: Uint8Array): void {
    let incident: Incident;
    try {
      incident = decodeIncident(data).incident;
    } catch {
      return; // not an incident update: the dead-letter queue names bad messages
    }
    const shown = this.#incidents.get(incident.id);
    if (shown && compareIncidentProgress(incident, shown) < 0) return;
    this.#incidents.delete(incident.id);
    this.#incidents.set(incident.id, incident);
    if (this.#incidents.size > INCIDENTS_PANEL_LIMITS.incidents_max) {
      this.#incidents.delete(this.#incidents.keys().next().value!);
    }
    this.#options.onChange?.(incident);
    this.#schedule();
  }

  /**
   * Starts from the collab server's incidents (`GET /incidents` with the page's token); a server
   * without them (no bus at all) answers 404 and the panel shows what the stream brings. Resolves
   * with how many it was given; throws with the server's reason on any other refusal.
   */
  async load(token: string): Promise<number> {
    const res = await fetch(`/incidents?token=${encodeURIComponent(token)}`);
    if (res.status === 404) return 0;
    if (!res.ok) throw new Error(`Incidents: ${res.status} ${(await res.text()).trim()}`);
    const listed = decodeIncidentList(new Uint8Array(await res.arrayBuffer()));
    this.seed(listed);
    return listed.length;
  }

  /**
   * Takes a list (the one updated longest ago first) under what the stream brought: an id shown
   * already keeps its place, with the copy further along; the rest go below, in the list's order.
   */
  seed(listed: readonly Incident[]): void {
    const merged = new Map<string, Incident>(), changed: Incident[] = [];
    for (const i of listed) {
      if (this.#incidents.has(i.id)) continue;
      merged.set(i.id, i);
      changed.push(i);
    }
    const listedById = new Map(listed.map((i) => [i.id, i]));
    for (const [id, shown] of this.#incidents) {
      const other = listedById.get(id);
      const further = other && compareIncidentProgress(other, shown) > 0;
      if (further) changed.push(other);
      merged.set(id, further ? other : shown);
    }
    const over = merged.size - INCIDENTS_PANEL_LIMITS.incidents_max;
    this.#incidents.clear();
    for (const [id, i] of [...merged].slice(Math.max(0, over))) this.#incidents.set(id, i);
    for (const i of changed) this.#options.onChange?.(i);
    this.#schedule();
  }

  /** Whether `i` is silenced: by the stage's mark, or a session silence in force now. */
  silenced(i: Incident): boolean {
    if (i.silenced) return true;
    const nowUs = Date.now() * 1000;
    for (const e of this.#inc.silences.values()) {
      try {
        const s = silenceOfEntry(e);
        if (silenceActive(s, nowUs) && silenceMatches(s, i)) return true;
      } catch {
        // A malformed entry (the bridge marks it refused) silences nothing.
      }
    }
    return false;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.render();
    });
  }

  /** Rebuilds the rows (a few hundred at most). */
  render(): void {
    const typing = document.activeElement === this.#note;
    const rows = [...this.#incidents.values()].reverse().map((i) => this.#row(i));
    this.#list.replaceChildren(...rows);
    if (typing && this.#note.isConnected) this.#note.focus();
    const nowMs = Date.now();
    const silences = this.#inc.silenceList().map((s) => {
      const ended = s.ends_ms <= nowMs;
      const li = el(
        "li",
        { class: `silence ${s.status ?? ""}`, "data-id": s.id, "data-ended": ended ? "1" : "0" },
        `${s.matchers} ${ended ? "ended" : "until"} ${findingTime(s.ends_ms, nowMs)} by ` +
          `${s.ended_by ?? s.by}: ${s.reason}${
            s.status === "error" ? ` (refused: ${s.detail})` : ""
          }`,
      );
      if (this.#link.canWrite && !ended) {
        li.append(
          " ",
          this.#button("unsilence", () => this.#inc.endSilence(s.id, this.#me(), Date.now())),
        );
      }
      return li;
    });
    this.#silences.replaceChildren(...silences);
  }

  #row(i: Incident): HTMLElement {
    const silenced = this.silenced(i);
    const ack = this.#inc.ackOf(i.id);
    const marks = ackMarks(ack);
    const line = formatIncident(i, i.first_us, { nowMs: Date.now(), silenced, marks });
    const li = el(
      "li",
      {
        class: `incident sev-${i.peak_severity} state-${i.state}${silenced ? " silenced" : ""}`,
        "data-id": i.id,
        "data-state": i.state,
        "data-silenced": silenced ? "1" : "0",
        "data-acked": ack && ack.status !== "error" ? "1" : "0",
        title: `${line}\n(click: show on the chart)`,
      },
      ...this.#series(i),
      el("span", { class: "line" }, line),
    );
    li.addEventListener("click", (e) => {
      if ((e.target as HTMLElement).tagName === "BUTTON") return;
      this.#options.onFocus(i.members[0]?.channel ?? "", Math.round(i.first_us / 1000), i);
    });
    if (this.#link.canWrite) {
      li.append(
        " ",
        this.#button("ack", () => this.#askNote(i.id)),
        " ",
        this.#button("silence", () => {
          this.#form.prefill(i);
          this.#form.element.scrollIntoView({ block: "nearest" });
        }),
      );
      if (this.#noting === i.id) li.append(this.#noteRow);
    }
    return li;
  }

  /** The row's series named by their labels (nothing when none of them has labels). */
  #series(i: Incident): HTMLElement[] {
    const labelsOf = this.#options.labels;
    if (!labelsOf || !i.members.some((m) => labelsOf(m.channel)?.length)) return [];
    const shown = i.members.slice(0, SERIES_SHOWN_MAX);
    const more = i.members.length - shown.length;
    return [
      el(
        "span",
        { class: "series" },
        shown.map((m) => seriesName(m.channel, labelsOf(m.channel))).join(", ") +
          (more > 0 ? ` +${more} more` : ""),
      ),
    ];
  }

  /** Asks for the note of an ack of `id` under its row (undefined: asks for none). */
  #askNote(id: string | undefined): void {
    if (this.#noting !== id) this.#note.value = "";
    this.#noting = id;
    if (id === undefined) this.#noteRow.remove();
    else {
      const row = [...this.#list.children].find((r) => (r as HTMLElement).dataset.id === id);
      row?.append(this.#noteRow);
      this.#note.focus();
    }
  }

  /** Acknowledges the incident the note is asked for, with the note written (maybe none). */
  #acknowledge(): void {
    const id = this.#noting;
    if (id === undefined) return;
    const note = this.#note.value.trim();
    this.#askNote(undefined);
    this.#inc.ack({ incident: id, by: this.#me(), at_ms: Date.now(), note });
  }

  #silence(v: SilenceFormValue): void {
    const now = Date.now();
    this.#inc.addSilence({
      matchers: v.matchers,
      ends_ms: now + v.duration_ms,
      by: this.#me(),
      reason: v.reason,
    }, now);
  }

  #button(name: string, action: () => void, text = name): HTMLButtonElement {
    const b = el("button", { name, class: name }, text);
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      try {
        action();
        this.#error.textContent = "";
      } catch (err) {
        this.#error.textContent = (err as Error).message;
      }
    });
    return b;
  }

  #me(): string {
    return this.#link.me.name;
  }
}
