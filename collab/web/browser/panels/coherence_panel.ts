/// <reference lib="dom" />
/**
 * The coherence gauge of each group: the share of the group's variance its leading factor
 * explains (`ratio`, from the coherence actor's columns), the state its machine is in, and the
 * channels that load most on the factor (from its state-change events).
 */
import { byId, el } from "../dom.ts";
import type { FrameLoop } from "../plot/mod.ts";

interface Gauge {
  meter: HTMLMeterElement;
  ratio: HTMLElement;
  state: HTMLElement;
  top: HTMLElement;
  last: number;
}

/** Bounds of the panel. */
export const COHERENCE_LIMITS = { groups_max: 32 } as const;

export class CoherencePanel {
  readonly #root = byId("gauges");
  readonly #gauges = new Map<string, Gauge>();
  readonly #loop: FrameLoop;

  constructor(loop: FrameLoop) {
    this.#loop = loop;
  }

  #gauge(group: string): Gauge | undefined {
    let g = this.#gauges.get(group);
    if (g || this.#gauges.size >= COHERENCE_LIMITS.groups_max) return g;
    const meter = el("meter", { min: 0, max: 1, low: 0.3, high: 0.8, optimum: 0.5 });
    const ratio = el("span", { class: "ratio" }, "–");
    const state = el("span", { class: "state" }, "warming up");
    const top = el("div", { class: "top status" });
    this.#root.append(
      el("div", { class: "gauge", "data-group": group }, el("b", {}, group), meter, ratio, state),
      top,
    );
    g = { meter, ratio, state, top, last: NaN };
    this.#gauges.set(group, g);
    return g;
  }

  /** The latest ratio of `group` (drawn on the next frame). */
  ratio(group: string, value: number): void {
    const g = this.#gauge(group);
    if (!g) return;
    g.last = value;
    this.#loop.mark(this);
  }

  /** A state change of `group` with its top-loading channels. */
  state(group: string, state: string, top: Array<{ channel: string; loading: number }>): void {
    const g = this.#gauge(group);
    if (!g) return;
    g.state.textContent = state;
    g.state.className = `state state-${state}`;
    g.top.textContent = "top: " +
      top.slice(0, 5).map((c) => `${c.channel} ${c.loading.toFixed(2)}`).join(", ");
  }

  flush(): void {
    for (const g of this.#gauges.values()) {
      if (Number.isNaN(g.last)) continue;
      g.meter.value = g.last;
      g.ratio.textContent = g.last.toFixed(3);
    }
  }
}
