/**
 * What a start asks of the stored snapshots about each of its streams: whether the store holds its
 * snapshot, and whether its head is in memory. A fleet host's start asks for each of 400,000
 * streams: the store's `held` answers in one lookup, where a list of every name, sorted and made a
 * set, then asked again of the store, took three. Private to the recovery folder.
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
