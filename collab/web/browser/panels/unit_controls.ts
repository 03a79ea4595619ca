/// <reference lib="dom" />
/**
 * The units a team sets, on the cards: each card's header gets `✎` after its unit, which opens
 * two small fields: whose unit (the channel's name, or a pattern of names with `*`: `SYM*`,
 * `*-latency`) and the unit (Enter sets it for the whole session, an empty unit goes back to the
 * unit the name says, Escape leaves it). The units are the session document's `units`
 * map (session_units.ts), shared live: every card shows its channel's set unit, by name or
 * pattern, else the derived one, in its header, over its value labels and at the crosshair. A
 * unit that does not fit is said in the field and not written; a viewer's `✎` is disabled, and
 * the server refuses a viewer's write made any other way.
 */
import { SessionDocError, setUnit, unitFor, unitsOf } from "../../../session/mod.ts";
import type { ChannelChart } from "../chart/mod.ts";
import { el } from "../dom.ts";
import { READ_ONLY_TEXT } from "./readonly_note.ts";
import type { SessionLink } from "../link/mod.ts";

/** The unit control of every card, and the session's units applied to the cards. */
export class UnitControls {
  readonly #link: SessionLink;
  readonly #charts: ChannelChart[] = [];
  #units = new Map<string, string>();

  constructor(link: SessionLink) {
    this.#link = link;
    // A refused write rebuilds the document (session_link.ts): read the new one's units.
    link.onDoc((sdoc) => {
      sdoc.units.observe(() => this.#read());
      this.#read();
    });
  }

  /** Adds the card's `✎` and shows its channel's unit (ChartGrid calls it for each card). */
  decorate(chart: ChannelChart): void {
    this.#charts.push(chart);
    const canWrite = this.#link.canWrite;
    const title = canWrite ? "set this channel's unit for the session" : READ_ONLY_TEXT;
    const button = el(
      "button",
      { type: "button", name: "set-unit", class: "layout", title },
      "✎",
    ) as HTMLButtonElement;
    button.disabled = !canWrite;
    button.addEventListener("click", (ev) => {
      ev.stopPropagation();
      // Read again: an expired token makes the page read-only (token_expiry.ts).
      if (this.#link.canWrite) this.#edit(chart, button);
    });
    chart.card.querySelector("h3 .unit")!.after(button);
    chart.setUnit(unitFor(this.#units, chart.channel));
  }

  #read(): void {
    this.#units = unitsOf(this.#link.sdoc.units);
    for (const chart of this.#charts) chart.setUnit(unitFor(this.#units, chart.channel));
  }

  /** Replaces `button` by the fields for the unit of `chart`'s channel, or of a pattern that
   *  names it and others, until it is set or left. */
  #edit(chart: ChannelChart, button: HTMLButtonElement): void {
    const key = el("input", {
      name: "unit-key",
      class: "unit-input",
      size: "8",
      value: chart.channel,
      title: "whose unit: this channel, or a pattern of names with * (SYM*, *-latency)",
    }) as HTMLInputElement;
    const input = el("input", {
      name: "unit",
      class: "unit-input",
      size: "6",
      value: this.#units.get(chart.channel) ?? "",
      placeholder: chart.derivedUnit || "unit",
      title: "Enter sets the unit for everyone; empty: the unit the name says; Escape leaves it",
    }) as HTMLInputElement;
    const box = el("span", { class: "unit-edit" }, key, input);
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      box.replaceWith(button);
    };
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key === "Escape") close();
      if (ev.key !== "Enter") return;
      try {
        setUnit(this.#link.sdoc.units, key.value.trim(), input.value.trim());
        close();
      } catch (err) {
        if (!(err instanceof SessionDocError)) throw err;
        input.classList.add("bad");
        input.title = err.message;
        input.dataset.error = err.message;
      }
    };
    key.addEventListener("keydown", onKey);
    input.addEventListener("keydown", onKey);
    // Leaving both fields leaves the edit; going from one to the other does not.
    box.addEventListener("focusout", (ev) => {
      if (!box.contains(ev.relatedTarget as Node | null)) close();
    });
    box.addEventListener("click", (ev) => ev.stopPropagation());
    button.replaceWith(box);
    input.focus();
    input.select();
  }
}
