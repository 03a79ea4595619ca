/// <reference lib="dom" />
/**
 * Who is here: every client in the session's awareness with its name and colour, and which chart
 * each looks at (the `chart` field each page sets when its user clicks a chart), drawn as a badge
 * in the header and as dots on the charts.
 */
import type { Awareness } from "y-protocols/awareness";
import type { ChartGrid } from "../chart/mod.ts";
import { byId, el } from "../dom.ts";
import type { SessionLink } from "../link/mod.ts";

/** One client present. */
export interface Present {
  name: string;
  color: string;
  chart: string | undefined;
}

export class PresencePanel {
  readonly #link: SessionLink;
  readonly #grid: ChartGrid;
  readonly #root = byId("presence");

  constructor(link: SessionLink, grid: ChartGrid) {
    this.#link = link;
    this.#grid = grid;
    // The link's awareness is its provider's: a new one when the link rebuilds its document.
    link.onDoc((_sdoc, rebuilt) => {
      link.provider.awareness.on("change", () => this.render());
      if (rebuilt) this.render();
    });
    this.render();
  }

  get #awareness(): Awareness {
    return this.#link.provider.awareness;
  }

  /** Marks the chart this user looks at. */
  look(channel: string): void {
    this.#awareness.setLocalStateField("chart", channel);
  }

  /** Everyone present, this page included. */
  present(): Present[] {
    const out: Present[] = [];
    for (const state of this.#awareness.getStates().values()) {
      const user = state.user as { name?: unknown; color?: unknown } | undefined;
      if (!user || typeof user.name !== "string") continue;
      out.push({
        name: user.name,
        color: typeof user.color === "string" ? user.color : "#888",
        chart: typeof state.chart === "string" ? state.chart : undefined,
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  render(): void {
    const list = this.present();
    this.#root.replaceChildren(
      ...list.map((p) =>
        el(
          "li",
          { style: `background:${p.color}`, "data-name": p.name, title: p.chart ?? "" },
          p.chart ? `${p.name} · ${p.chart}` : p.name,
        )
      ),
    );
    this.#grid.setWatchers(list);
  }
}
