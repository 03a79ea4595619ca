/// <reference lib="dom" />
/**
 * The time range of every chart, in the page's header: `live` (each chart follows its live edge)
 * or the last 5 minutes, hour or day, read from the history endpoint, and a custom range (from
 * and to, UTC). Drag on a chart to zoom into part of a range; `live` on a card, or here, goes back.
 */
import { el } from "./dom.ts";

/** The ranges offered, seconds back from now (0: live). */
export const RANGES = [["live", 0], ["5m", 300], ["1h", 3_600], ["24h", 86_400]] as const;

/** The header's range buttons and custom range. */
export class RangePicker {
  readonly #root: HTMLElement;
  readonly #onChange: (range: { min: number; max: number } | undefined) => void;

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
    const from = el("input", { type: "datetime-local", name: "range-from", title: "from (UTC)" });
    const to = el("input", { type: "datetime-local", name: "range-to", title: "to (UTC)" });
    const go = el(
      "button",
      { type: "button", name: "range-custom", "aria-pressed": "false" },
      "show",
    );
    go.addEventListener("click", () => {
      const min = Date.parse(`${(from as HTMLInputElement).value}Z`) / 1000;
      const max = Date.parse(`${(to as HTMLInputElement).value}Z`) / 1000;
      if (!(max > min)) {
        go.title = "pick a from before a to";
        return;
      }
      this.#press(go);
      this.#onChange({ min, max });
    });
    root.append(from, to, go);
    this.#press(root.querySelector("button[name=range-live]")!);
  }

  #pick(button: HTMLElement, span: number): void {
    this.#press(button);
    const now = Date.now() / 1000;
    this.#onChange(span === 0 ? undefined : { min: now - span, max: now });
  }

  #press(button: Element): void {
    for (const b of this.#root.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-pressed", "true");
  }
}
