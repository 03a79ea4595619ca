/// <reference lib="dom" />
/**
 * What a card says when the history of the range it shows could not be read (the history service
 * refused or failed, or no answer came in time): under its line, as the dashboard says its other
 * errors (`.error`, `role="alert"`), which range, why, and when it is read again, with a button to
 * read it again now. Until then the card draws what its ring holds of the range, and a window
 * that goes on (an incident still open) goes on with the samples that come. Before, the card
 * stayed `loading` with the reason in its title's tooltip alone, and nothing read it again.
 */
import { el } from "../dom.ts";
import { formatUtcInput } from "../utc_input.ts";

export class HistoryFailure {
  readonly element: HTMLElement;
  readonly #text = el("span", { class: "reason" });
  readonly #button: HTMLButtonElement;

  /** `retry`: the button's action, read the range again now. */
  constructor(retry: () => void) {
    const button = el(
      "button",
      { type: "button", name: "retry", title: "read this range's history again now" },
      "retry",
    );
    button.addEventListener("click", () => retry());
    this.#button = button;
    this.element = el(
      "div",
      { class: "error history-failure", role: "alert", hidden: true },
      this.#text,
      " ",
      button,
    );
  }

  /** The read of `range` (seconds) failed with `message`; it is read again at `retryAtMs`, or
   *  never for NaN (a request that can never succeed: no retry offered either). */
  failed(range: { min: number; max: number }, message: string, retryAtMs: number): void {
    const span = `${formatUtcInput(range.min, true)} – ${formatUtcInput(range.max, true)} UTC`;
    const again = Number.isFinite(retryAtMs);
    const at = again ? formatUtcInput(retryAtMs / 1000, true).slice(11) : "";
    this.#text.textContent = `Could not read ${span}: ${message}.` +
      (again ? ` Trying again at ${at}.` : " This range cannot be read: choose another.");
    this.#button.hidden = !again;
    this.element.dataset.message = message;
    this.element.dataset.retryAt = String(retryAtMs);
    this.element.hidden = false;
  }

  /** The range is being read again: the note says so until the answer (or the next failure). */
  retrying(): void {
    if (this.element.hidden) return;
    const text = this.#text.textContent ?? "";
    this.#text.textContent = text.replace(/ Trying again at [^.]*\.$/, " Reading it again…");
  }

  /** Nothing failed (an answer came, or the card shows another range): the note is hidden. */
  clear(): void {
    if (this.element.hidden) return;
    this.element.hidden = true;
    this.#text.textContent = "";
    delete this.element.dataset.message;
    delete this.element.dataset.retryAt;
  }
}
