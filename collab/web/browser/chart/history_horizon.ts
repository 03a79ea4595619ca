/// <reference lib="dom" />
/**
 * A card's history horizon, under its line chart while it shows a range read from history: how
 * far back the server holds the channel whole, when the range starts before that. A server
 * without NATS keeps history in memory from the frames it saw since it started, within a bound
 * (collab/history/bus_feed_history.ts), and says from when in each answer (`samples_since_us`); a
 * user who picked the last 24 h saw a sliver at the right edge and nothing saying why. A server
 * with
 * NATS reads the feed stream, says nothing (null), and the note stays hidden.
 */
import type { HistoryResponse } from "../../../../protocol/mod.ts";
import { el } from "../dom.ts";
import { formatUtcInput } from "../utc_input.ts";

/** The note. */
export class HistoryHorizon {
  readonly element: HTMLElement = el("div", { class: "history-horizon", hidden: true });

  /** The history answer shown (undefined: the card left history). */
  history(h: HistoryResponse | undefined): void {
    const since = h?.samples_since_us ?? null;
    if (h === undefined || since === null || since <= h.t0_us) {
      if (this.element.hidden) return;
      this.element.hidden = true;
      this.element.textContent = "";
      delete this.element.dataset.sinceUs;
      return;
    }
    const at = `${formatUtcInput(Math.floor(since / 1e6), true)} UTC`;
    this.element.textContent = `history since ${at} (in memory)`;
    this.element.title = `This server keeps history in memory (no NATS), from the frames it saw ` +
      `since it started, within a bound: every sample of ${h.channel} from ${at} on is held, ` +
      `of earlier ones only those it saw and kept.`;
    this.element.dataset.sinceUs = String(since);
    this.element.hidden = false;
  }
}
