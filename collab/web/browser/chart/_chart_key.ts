/// <reference lib="dom" />
/**
 * A channel card's key: what the line, the band, the dots and the orange lines mean, in the
 * colours the live view draws them in (LIVE_STYLE). Made once per card and never redrawn, so a
 * frame costs nothing more for it.
 */
import { el } from "../dom.ts";
import { LIVE_STYLE } from "../plot/mod.ts";

/** The entries of a key: a swatch's shape and colour, and its words. */
const ENTRIES = [
  { shape: "line", color: LIVE_STYLE.value, text: "value" },
  { shape: "line", color: LIVE_STYLE.expected, text: "expected" },
  { shape: "band", color: LIVE_STYLE.band, text: "expected range" },
  { shape: "dot", color: LIVE_STYLE.anomaly, text: "anomaly" },
  { shape: "rule", color: LIVE_STYLE.regime, text: "change point" },
] as const;

/** The key's element: one entry a mark the chart draws. */
export function chartKey(): HTMLElement {
  return el(
    "div",
    { class: "chart-key" },
    ...ENTRIES.map((e) =>
      el(
        "span",
        { class: `key key-${e.shape}`, "data-key": e.text },
        el("i", { style: `background:${e.color}` }),
        e.text,
      )
    ),
  );
}
