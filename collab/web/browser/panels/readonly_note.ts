/// <reference lib="dom" />
/**
 * What the page says to a viewer: that it is read-only for them, in one line of the same look
 * everywhere, so that a disabled control is never left unexplained. A panel that writes to the
 * session adds the note itself (`readOnlyNote`); `markReadOnly` gives every other panel and the
 * layout header theirs, so that every panel says it.
 */
import { el } from "../dom.ts";

/** The note's text. */
export const READ_ONLY_TEXT = "read-only: you are a viewer";

/** The note, for a viewer; nothing for an editor or owner. */
export function readOnlyNote(canWrite: boolean): HTMLElement[] {
  return canWrite ? [] : [el("div", { class: "readonly-note" }, READ_ONLY_TEXT)];
}

/**
 * For a viewer: the note under the heading of every panel (`section`) that has none yet, and in
 * the layout header (`#layout`), whose buttons work in "just my view" only. Nothing for an editor.
 */
export function markReadOnly(root: Document, canWrite: boolean): void {
  if (canWrite) return;
  for (const panel of root.querySelectorAll("section")) {
    if (panel.querySelector(".readonly-note")) continue;
    const [note] = readOnlyNote(false);
    const heading = panel.querySelector("h2");
    if (heading) heading.after(note!);
    else panel.prepend(note!);
  }
  const layout = root.getElementById("layout");
  if (layout && !layout.querySelector(".readonly-note")) {
    layout.append(
      el("span", { class: "readonly-note" }, `${READ_ONLY_TEXT} (just my view is yours alone)`),
    );
  }
}
