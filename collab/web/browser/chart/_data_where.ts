/// <reference lib="dom" />
/**
 * What a card says of a channel whose samples are far from now (a CSV of years ago, injected):
 * where its data is, first to last sample in UTC, so that its live view, which shows that data,
 * is not read as today's, and a range picked from now (which holds none of it) is not read as an
 * empty channel. Hidden for a channel whose newest sample is within `DATA_WHERE_AFTER_S` of now.
 */
import { el } from "../dom.ts";
import { formatUtcInput } from "../utc_input.ts";

/** How far (seconds) the newest sample may be from now before the card says where its data is. */
export const DATA_WHERE_AFTER_S = 86_400;

export class DataWhere {
  readonly element: HTMLElement = el("div", { class: "data-where", hidden: true });

  /** The channel's samples run from `firstS` to `lastS` (seconds); it is `nowS`. */
  update(firstS: number, lastS: number, nowS: number): void {
    const far = Math.abs(nowS - lastS) > DATA_WHERE_AFTER_S;
    const text = far
      ? `Its data: ${formatUtcInput(firstS)} – ${formatUtcInput(lastS)} UTC (not live)`
      : "";
    if (this.element.textContent !== text) this.element.textContent = text;
    if (this.element.hidden === far) this.element.hidden = !far;
  }
}
