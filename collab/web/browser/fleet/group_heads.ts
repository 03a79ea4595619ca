/// <reference lib="dom" />
/**
 * The headers of the grid's groups of cards (fleet/order_channels.ts): one full-width line per
 * group, `instance="a:9100" job="node"` with how many of its channels are shown and how many have
 * an open incident, placed by CSS `order` before the group's cards. A group with neither label
 * is headed "no instance or job" when other groups are shown beside it, and not headed at all
 * alone (a market's or a synthetic feed's page looks as it did).
 */
import type { ChannelGroup } from "./order_channels.ts";
import { el } from "../dom.ts";

/** The header of the group of channels without `instance` or `job`. */
export const UNGROUPED_TITLE = "no instance or job";

/** The group headers in a grid. */
export class GroupHeads {
  readonly #root: HTMLElement;
  readonly #heads = new Map<string, HTMLElement>();

  constructor(root: HTMLElement) {
    this.#root = root;
  }

  /**
   * Heads `groups` from CSS order `from` on, and gives each channel its order after its header;
   * removes the headers of groups gone.
   */
  place(groups: readonly ChannelGroup[], from: number): Map<string, number> {
    const orders = new Map<string, number>();
    const headed = groups.length > 1 || (groups.length === 1 && groups[0]!.group !== "");
    let n = from;
    const seen = new Set<string>();
    for (const g of groups) {
      if (headed) {
        seen.add(g.group);
        const head = this.#head(g.group);
        // Written only when changed: each write lays the grid of cards out again.
        setOrder(head, n++);
        const open = g.open > 0 ? ` · ${g.open} with an open incident` : "";
        const count = `${g.channels.length} series${open}`, counter = head.querySelector(".count")!;
        if (counter.textContent !== count) counter.textContent = count;
        if (head.classList.contains("open") !== g.open > 0) head.classList.toggle("open");
      }
      for (const c of g.channels) orders.set(c, n++);
    }
    for (const [group, head] of this.#heads) {
      if (seen.has(group)) continue;
      head.remove();
      this.#heads.delete(group);
    }
    return orders;
  }

  #head(group: string): HTMLElement {
    let head = this.#heads.get(group);
    if (head) return head;
    head = el(
      "div",
      { class: "group-head", "data-group": group },
      el("span", { class: "name" }, group === "" ? UNGROUPED_TITLE : group),
      el("span", { class: "count" }),
    );
    this.#heads.set(group, head);
    this.#root.append(head);
    return head;
  }
}

/** Sets `element`'s CSS order to `order` unless it has it (a write costs a layout). */
export function setOrder(element: HTMLElement, order: number): void {
  const value = String(order);
  if (element.style.order !== value) element.style.order = value;
}
