/**
 * A universe's symbols in priority order and in chunks, as the scan service keeps them between
 * scans (see `ScanService`): what an order depends on (`Ordering`), the key it is kept by, the
 * symbols of a universe, and the order made afresh or brought up to date.
 */
import type { ScanDefinition } from "../../protocol/mod.ts";
import type { BarsSource } from "./bars_source.ts";
import { PriorityOrder } from "./_priority_order.ts";
import { type PriorityCache, priorityOf } from "./_priority_cache.ts";

/** What a universe's priority order depends on: the bar size, the priority, the universe. */
export type Ordering = Pick<ScanDefinition, "bar" | "priority" | "universe">;

/** Chunks of symbols and their msgpack encoding (journaled in a scan's definition). */
export interface Cut {
  lists: string[][];
  encoded: Uint8Array;
}

/** A universe in priority order, the source version it was ordered at, and its chunks. */
export interface Chunks {
  /** What was ordered (a warm-up brings it up to date again). */
  of: Ordering;
  version: number | undefined;
  /** The order, kept to bring up to date when the bars change. */
  order: PriorityOrder;
  /** The order in chunks, cut when first asked for. */
  plain?: Cut;
  /** The order with a criteria's recent hits first (see `#withRecentHits`), cut when asked. */
  fronted?: Cut & { front: readonly string[] };
}

/** The key an ordering's chunks are kept by; undefined for a listed universe (not kept). */
export function orderingKey(o: Ordering): string | undefined {
  return o.universe === null || typeof o.universe === "string"
    ? `${o.bar}\n${o.priority}\n${o.universe ?? ""}`
    : undefined;
}

/** The symbols of `def`'s universe in `source`. */
export function universeOf(source: BarsSource, def: Ordering): readonly string[] {
  return def.universe === null
    ? source.symbols()
    : typeof def.universe === "string"
    ? source.symbols().filter((s) => s.startsWith((def.universe as string).slice(0, -1)))
    : def.universe;
}

/**
 * The universe of `def` in priority order (priorities cached in `cached`): `kept`'s brought up to
 * date (looking only at the symbols changed since, where the source says which), or made afresh.
 */
export function orderOf(
  source: BarsSource,
  cached: PriorityCache,
  def: Ordering,
  kept: Chunks | undefined,
): PriorityOrder {
  const universe = universeOf(source, def);
  const priority = (i: number) => {
    const bars = source.bars(universe[i]!, def.bar);
    return bars ? priorityOf(cached, bars) : -Infinity;
  };
  const sourceMark = source.mark?.bind(source);
  // Without marks, every symbol counts as changed (NaN is never equal to itself).
  const mark = sourceMark ? (i: number) => sourceMark(universe[i]!, def.bar) : () => NaN;
  const order = kept?.order;
  if (order !== undefined && sourceMark !== undefined && order.sameUniverse(universe)) {
    const changed = kept!.version === undefined ? undefined : source.changedSince?.(kept!.version);
    let only: number[] | undefined;
    if (changed !== undefined) {
      only = [];
      for (const s of changed) {
        const i = order.placeOf(s);
        if (i !== undefined) only.push(i);
      }
    }
    order.update(priority, mark, only);
    return order;
  }
  return new PriorityOrder(universe, priority, mark);
}
