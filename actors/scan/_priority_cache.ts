/**
 * Compiled priorities and the priorities they gave, by bars object: a source that hands out the
 * same columns object while a symbol's bars are unchanged (the bars actors' rings do) gets each
 * priority computed once per closed bar, not once per scan.
 */
import { compileCriteria, type CompiledCriteria } from "../criteria/mod.ts";
import type { BarColumns } from "../indicators/mod.ts";

/** Priority expressions whose values are kept. */
export const PRIORITIES_CACHED_MAX = 16;

/** A compiled priority and the priorities it gave, by bars object. */
export interface PriorityCache {
  priority: CompiledCriteria;
  known: WeakMap<BarColumns, number>;
}

/** The priority of `bars` (-Infinity: none), computed once per bars object. */
export function priorityOf(cached: PriorityCache, bars: BarColumns): number {
  let v = cached.known.get(bars);
  if (v === undefined) {
    const r = cached.priority.evaluate(bars);
    v = r.kind === "match" && r.rank !== null ? r.rank : -Infinity;
    cached.known.set(bars, v);
  }
  return v;
}

/** The priority caches of the last `PRIORITIES_CACHED_MAX` (bar size, priority) pairs. */
export class PriorityCaches {
  #caches = new Map<string, PriorityCache>();

  /** The cache of `bar`'s `priority` expression (made, compiled, when first asked for). */
  get(o: { bar: string; priority: string }): PriorityCache {
    const key = `${o.bar}\n${o.priority}`;
    let c = this.#caches.get(key);
    if (c === undefined) {
      if (this.#caches.size >= PRIORITIES_CACHED_MAX) this.#caches.clear();
      c = {
        priority: compileCriteria("1 > 0", { rank: o.priority, order: "desc" }),
        known: new WeakMap(),
      };
      this.#caches.set(key, c);
    }
    return c;
  }
}
