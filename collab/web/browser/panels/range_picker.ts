/// <reference lib="dom" />
/**
 * The time range of every chart, in the page's header: `live` (each chart follows its live edge)
 * or the last 5 minutes, hour or day, read from the history endpoint, and a custom range (from
 * and to, typed `YYYY-MM-DD HH:MM` in UTC, which the fields say; a preset writes its range there,
 * so a custom range starts from what is shown, and `live` empties them). A custom range wider
 * than history serves (`HISTORY_LIMITS.span_us_max`) is refused here, in words, before any card
 * asks for it. Drag on a chart to zoom into part of a range; `live` on a card, or here, goes back.
 */
import { HISTORY_LIMITS } from "../../../../protocol/mod.ts";
import { el } from "../dom.ts";
import { formatUtcInput, parseUtcInput, UTC_INPUT_FORMAT } from "../utc_input.ts";

/** The ranges offered, seconds back from now (0: live). */
export const RANGES = [["live", 0], ["5m", 300], ["1h", 3_600], ["24h", 86_400]] as const;

/** The header's range buttons and custom range. */
export class RangePicker {
  readonly #root: HTMLElement;
  readonly #onChange: (range: { min: number; max: number } | undefined) => void;
  readonly #from: HTMLInputElement;
  readonly #to: HTMLInputElement;

  constructor(
    root: HTMLElement,
    onChange: (range: { min: number; max: number } | undefined) => void,
  ) {
    this.#root = root;
    this.#onChange = onChange;
    for (const [label, span] of RANGES) {
      const b = el(
        "button",
        { type: "button", name: `range-${label}`, "aria-pressed": "false" },
        label,
      );
      b.addEventListener("click", () => this.#pick(b, span));
      root.append(b);
    }
    const field = (name: string, title: string) =>
      el("input", { name, title, placeholder: UTC_INPUT_FORMAT, size: 16, spellcheck: "false" });
    this.#from = field("range-from", "from (UTC)");
    this.#to = field("range-to", "to (UTC)");
    const utc = el("span", { class: "range-zone" }, "UTC");
    const why = el("span", { class: "range-error error", role: "alert" });
    const go = el(
      "button",
      { type: "button", name: "range-custom", "aria-pressed": "false" },
      "show",
    );
    go.addEventListener("click", () => {
      why.textContent = "";
      try {
        const min = parseUtcInput(this.#from.value, "from");
        const max = parseUtcInput(this.#to.value, "to");
        if (!(max > min)) {
          throw new Error(`from ${this.#from.value} must be before to ${this.#to.value}`);
        }
        // Said before anything is asked: every card's request would be refused.
        const days = HISTORY_LIMITS.span_us_max / 86_400e6;
        if ((max - min) * 1e6 > HISTORY_LIMITS.span_us_max) {
          throw new Error(
            `a range may span at most ${days} days; ${this.#from.value} to ${this.#to.value} ` +
              `spans ${Math.round((max - min) / 86_400)} days`,
          );
        }
        this.#press(go);
        this.#onChange({ min, max });
      } catch (err) {
        why.textContent = (err as Error).message;
      }
    });
    // One box, kept on one row: a crowded header moved `UTC` (or `show`) under its fields.
    root.append(el("span", { class: "range-custom" }, this.#from, this.#to, utc, go), why);
    this.#press(root.querySelector("button[name=range-live]")!);
  }

  #pick(button: HTMLElement, span: number): void {
    this.#press(button);
    const now = Date.now() / 1000;
    // Live has no fixed range: the fields go blank (their placeholder shows the format) rather
    // than keep saying the range that was left.
    this.#from.value = span > 0 ? formatUtcInput(now - span) : "";
    this.#to.value = span > 0 ? formatUtcInput(now) : "";
    this.#onChange(span === 0 ? undefined : { min: now - span, max: now });
  }

  #press(button: Element): void {
    for (const b of this.#root.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-pressed", "true");
  }
}
