/// <reference lib="dom" />
/**
 * What a panel that writes to the session says to a viewer: that it is read-only for them, in
 * one line of the same look everywhere, so that a disabled control is never left unexplained.
 */
import { el } from "./dom.ts";

/** The note, for a viewer; nothing for an editor or owner. */
export function readOnlyNote(canWrite: boolean): HTMLElement[] {
  return canWrite ? [] : [el("div", { class: "readonly-note" }, "read-only: you are a viewer")];
}
