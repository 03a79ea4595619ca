/**
 * A memory journal whose appends to streams under `prefix` complete only when `settle` says: a
 * store that stalls under some instances while the host's other writes (its edge's) go on. The
 * recorder and replay tests use it to make an instance lag its inputs.
 */
import { type Journal, type JournalData, MemoryJournal } from "../../actors/runtime/journal/mod.ts";

/** A memory journal whose appends under `prefix` resolve with `settle(pos)`. */
export function stalledJournal(
  prefix: string,
  settle: (pos: number) => Promise<number>,
): Journal {
  const inner = new MemoryJournal();
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "append") {
        return (stream: string, data: JournalData) => {
          const pos = target.append(stream, data);
          return stream.startsWith(prefix) ? settle(pos) : pos;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as Journal;
}
