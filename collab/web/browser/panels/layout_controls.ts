/// <reference lib="dom" />
/**
 * Choosing the dashboard's panels on the page: each card gets `◀` and `▶` (move it one place
 * earlier or later) and `✕` (take it off the dashboard); the header gets "just my view" (this
 * browser's own layout, LayoutStore) and "show all" (bring back what was taken off). A change
 * writes the whole order as one chart panel per card (`chart-<channel>`, its title and width
 * kept), so every page of the session shows the same order, live and after a reload. A viewer's
 * buttons work in "just my view" only.
 */
import type { Panel } from "../../../session/mod.ts";
import type { ChannelChart, ChartGrid } from "../chart/mod.ts";
import { el } from "../dom.ts";
import type { LayoutStore } from "./layout_store.ts";

/** The card buttons and header controls of the layout. */
export class LayoutControls {
  readonly #store: LayoutStore;
  readonly #grid: () => ChartGrid;
  readonly #buttons: HTMLButtonElement[] = [];
  readonly #mine: HTMLInputElement;

  constructor(header: HTMLElement, store: LayoutStore, grid: () => ChartGrid) {
    this.#store = store;
    this.#grid = grid;
    this.#mine = el("input", { type: "checkbox", name: "just-my-view" }) as HTMLInputElement;
    this.#mine.checked = store.personal;
    this.#mine.addEventListener("change", () => {
      store.setPersonal(this.#mine.checked);
      this.#enable();
    });
    const all = el("button", { type: "button", name: "show-all" }, "show all");
    all.addEventListener(
      "click",
      () => this.#write((o) => o.map((c) => ({ ...c, hidden: false }))),
    );
    this.#buttons.push(all as HTMLButtonElement);
    header.append(el("label", { class: "status" }, this.#mine, " just my view"), all);
    this.#enable();
  }

  /** Adds the card's buttons (ChartGrid calls it for each card it makes). */
  decorate(chart: ChannelChart): void {
    const h3 = chart.card.querySelector("h3")!;
    const button = (name: string, text: string, title: string, move: (i: number) => number) => {
      const b = el("button", { type: "button", name, title, class: "layout" }, text);
      b.addEventListener("click", (ev) => {
        ev.stopPropagation();
        this.#write((o) => {
          const i = o.findIndex((c) => c.channel === chart.channel);
          const to = move(i);
          if (to === -2) return o.map((c, k) => (k === i ? { ...c, hidden: true } : c));
          if (i < 0 || to < 0 || to >= o.length) return o;
          const out = [...o];
          const [it] = out.splice(i, 1);
          out.splice(to, 0, it!);
          return out;
        });
      });
      this.#buttons.push(b as HTMLButtonElement);
      return b;
    };
    h3.append(
      button("earlier", "◀", "move earlier", (i) => i - 1),
      button("later", "▶", "move later", (i) => i + 1),
      button("remove", "✕", "take off the dashboard", () => -2),
    );
    this.#enable();
  }

  /** Rewrites the layout as one panel per card, in the order `edit` makes of the current one. */
  #write(
    edit: (order: ReturnType<ChartGrid["order"]>) => ReturnType<ChartGrid["order"]>,
  ): void {
    if (!this.#store.canEdit) return;
    const others = this.#store.panels().filter((p) => p.kind !== "chart");
    const panels: Panel[] = edit(this.#grid().order()).map((c, i) => ({
      id: `chart-${c.channel}`,
      kind: "chart",
      channels: [c.channel],
      title: c.title,
      layout: { x: 0, y: i, w: c.span, h: 1 },
      ...(c.hidden ? { hidden: true } : {}),
    }));
    this.#store.replace([...others, ...panels]);
  }

  #enable(): void {
    for (const b of this.#buttons) {
      b.dataset.title ??= b.title;
      b.disabled = !this.#store.canEdit;
      b.title = b.disabled ? "read-only: you are a viewer (tick just my view)" : b.dataset.title;
    }
  }
}
