/// <reference lib="dom" />
/**
 * What the page says when the server refused one of its writes (a viewer's, or one that does not
 * fit the session schema): a notice under the header with the server's reason, until it is
 * dismissed or the next refusal replaces it. The change itself is already gone from the page
 * (session_link.ts rebuilds the document from the server's state).
 */
import { el } from "../dom.ts";

/** Shows (or replaces) the notice of a refused write, with the server's `reason`. */
export function showRefused(reason: string): HTMLElement {
  const old = document.getElementById("refused-notice");
  const close = el("button", { type: "button", name: "dismiss", title: "dismiss" }, "✕");
  const notice = el(
    "div",
    {
      id: "refused-notice",
      role: "alert",
      class: "error",
      style: "margin:4px 12px;padding:4px 8px;border:1px solid currentColor;border-radius:4px;" +
        "overflow-wrap:anywhere",
    },
    el("b", {}, "Not saved, rolled back: "),
    el("span", { class: "reason" }, reason),
    " ",
    close,
  );
  close.addEventListener("click", () => notice.remove());
  if (old) old.replaceWith(notice);
  else (document.querySelector("header") ?? document.body).after(notice);
  return notice;
}
