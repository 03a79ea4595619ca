/// <reference lib="dom" />
/**
 * Shared annotations: a note on a channel at a time, written to the session's `annotations` and
 * drawn on that channel's chart for everyone (in the colour of its author). A new note goes at the
 * latest time the chart shows, or now.
 */
import type { ChartGrid } from "../chart/mod.ts";
import { byId, el, find } from "../dom.ts";
import { readOnlyNote } from "./readonly_note.ts";
import { colorOf, newId, type SessionLink } from "../link/mod.ts";

export class AnnotationsPanel {
  readonly #link: SessionLink;
  readonly #grid: ChartGrid;
  readonly #list: HTMLElement;
  readonly #error = el("div", { class: "error" });

  constructor(link: SessionLink, grid: ChartGrid, focused: () => string | undefined) {
    this.#link = link;
    this.#grid = grid;
    const root = byId("annotations");
    this.#list = find(root, "ul");
    const off = !link.canWrite;
    const channel = el("input", {
      name: "channel",
      placeholder: "channel",
      size: 9,
      disabled: off,
    });
    const text = el("input", { name: "note", placeholder: "note", disabled: off });
    const add = el("button", { name: "annotate", disabled: off }, "annotate");
    add.addEventListener("click", () => {
      try {
        const ch = channel.value.trim() || focused() || grid.channels()[0] || "";
        const range = grid.chart(ch)?.xRange();
        const t = range && Number.isFinite(range.max) ? range.max * 1000 : Date.now();
        link.sdoc.addAnnotation({
          id: newId("a"),
          t,
          channel: ch,
          text: text.value,
          author: link.me.name,
        });
        text.value = "";
        this.#error.textContent = "";
      } catch (err) {
        this.#error.textContent = (err as Error).message;
      }
    });
    find(root, ".editor").append(
      el("div", { class: "row" }, channel, text, add),
      this.#error,
      ...readOnlyNote(link.canWrite),
    );
    link.onDoc((sdoc, rebuilt) => {
      sdoc.annotations.observe(() => this.render());
      if (rebuilt) this.render();
    });
    this.render();
  }

  render(): void {
    const list = this.#link.sdoc.annotationList();
    this.#grid.setAnnotations(
      list.map((a) => ({ t: a.t, channel: a.channel, text: a.text, color: colorOf(a.author) })),
    );
    this.#list.replaceChildren(
      ...list.slice(-100).reverse().map((a) =>
        el(
          "li",
          { class: "annotation", "data-id": a.id, "data-channel": a.channel },
          `${new Date(a.t).toISOString().slice(11, 19)} ${a.channel} ${a.author}: ${a.text}`,
        )
      ),
    );
  }
}
