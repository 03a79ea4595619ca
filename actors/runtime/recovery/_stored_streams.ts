/**
 * What a start asks of the stored snapshots about each of its streams: whether the store holds its
 * snapshot, and whether its head is in memory. A store with `held` answers in one lookup a stream,
 * without listing (and sorting) every name for a set, which a fleet host's start would do for each
 * of hundreds of thousands; another store is asked through a set of its list. Private to the
 * recovery folder.
 */
import { HELD, HELD_NOW, type SnapshotStore } from "../snapshots/mod.ts";

/** What a start asks of the stored snapshots. */
export interface StoredStreams {
  /** How many streams have a snapshot. */
  count: number;
  /** Whether `stream` has one: HELD_NOW where its head is held in memory, HELD, or 0. */
  of(stream: string): number;
  /** Every stream that has one (at hand, or to be read). */
  list(): readonly string[] | Promise<string[]>;
}

/** No stored snapshot: a new host's start does not read them. */
export const NONE_STORED: StoredStreams = { count: 0, of: () => 0, list: () => [] };

/** `store`'s snapshots as a start asks of them, where the store answers at once (its `held`). */
export function heldStreamsOf(store: SnapshotStore): StoredStreams | undefined {
  if (store.held === undefined || store.heldCount === undefined) return undefined;
  return { count: store.heldCount, of: (s) => store.held!(s), list: () => store.list() };
}

/** The stored snapshots of `list` (a store's list), `now` saying whose heads are in memory. */
export function listedStreams(
  list: readonly string[],
  now: (stream: string) => boolean,
): StoredStreams {
  const set = new Set(list);
  return {
    count: set.size,
    of: (s) => (set.has(s) ? (now(s) ? HELD_NOW : HELD) : 0),
    list: () => list,
  };
}
