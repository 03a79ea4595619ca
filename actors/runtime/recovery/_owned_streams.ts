/**
 * The streams a start takes, in the order it takes them: the journal's, then those it lost
 * entirely, their snapshots kept; those of the host's kinds and partitions. Listed as parallel
 * lists, with what the start asks of each (its kind, its key, whether a snapshot is stored, its
 * last position): a fleet host's start lists hundreds of thousands, and an object each, or a
 * lookup by name each, is that many more for the collector to copy and the maps to hash while
 * the start holds them. Private to the recovery folder.
 */
import type { AnyActorDefinition } from "../../../protocol/mod.ts";
import type { StreamLasts } from "../journal/mod.ts";
import type { RecoveryAccess } from "./recovery_access.ts";
import type { StoredStreams } from "./_stored_streams.ts";

type Def = AnyActorDefinition;

/** A start's streams, in the order they are taken, and what it asks of each, at one index. */
export interface OwnedStreams {
  /** How many: the lists' first `count` entries. */
  count: number;
  streams: string[];
  keys: string[];
  defs: Def[];
  /** Whether the store holds the stream's snapshot (`StoredStreams.of`: HELD, HELD_NOW, 0). */
  stored: Uint8Array;
  /** Its last position in the journal, where the journal listed it so (`streamLasts`); else NaN. */
  lasts: Float64Array;
  /** The journal's streams it does not take: of a kind it does not run, or another's partition. */
  others: string[];
}

/**
 * The streams `h`'s start takes, of `journaled` (the journal's, as `streamLasts` or `streams`
 * list them) and `stored` (the snapshot store's), each asked of the store once; those the journal
 * lost are listed only when some stored stream is not the journal's, and only then is anything
 * awaited (a store whose list is not at hand). The lists are made as long as they may need to be,
 * not grown a stream at a time.
 */
export function ownedStreams(
  h: RecoveryAccess,
  journaled: StreamLasts | string[],
  stored: StoredStreams,
): OwnedStreams | Promise<OwnedStreams> {
  const streams = Array.isArray(journaled) ? journaled : journaled.streams;
  const lasts = Array.isArray(journaled) ? undefined : journaled.lasts;
  const owned = listsOf(streams.length + stored.count);
  const kinds = [...h.kinds];
  let both = 0;
  for (let i = 0; i < streams.length; i++) {
    const stream = streams[i]!, held = stored.count > 0 ? stored.of(stream) : 0;
    if (held !== 0) both++;
    if (!own(h, owned, kinds, stream, held, lasts?.[i] ?? NaN)) owned.others.push(stream);
  }
  if (both === stored.count) return owned;
  const lost = (list: readonly string[]) => {
    const listed = new Set(streams);
    for (const stream of list) {
      if (!listed.has(stream)) own(h, owned, kinds, stream, stored.of(stream), NaN);
    }
    return owned;
  };
  const list = stored.list();
  return list instanceof Promise ? list.then(lost) : lost(list);
}

/** Lists for `n` streams at most. */
function listsOf(n: number): OwnedStreams {
  return {
    count: 0,
    streams: new Array<string>(n),
    keys: new Array<string>(n),
    defs: new Array<Def>(n),
    stored: new Uint8Array(n),
    lasts: new Float64Array(n),
    others: [],
  };
}

/**
 * Adds `stream` to `owned` when it is of `h`'s kinds (`kinds`, by name) and partitions: its kind
 * found by its name's prefix (`kind/key`), not a string made for it. Whether it was added.
 */
function own(
  h: RecoveryAccess,
  owned: OwnedStreams,
  kinds: readonly (readonly [string, Def])[],
  stream: string,
  held: number,
  last: number,
): boolean {
  const slash = stream.indexOf("/");
  if (slash <= 0) return false;
  let def: Def | undefined;
  for (const [kind, d] of kinds) {
    if (kind.length === slash && stream.startsWith(kind)) def = d;
  }
  const key = stream.slice(slash + 1);
  if (def === undefined || !h.owns(key)) return false;
  const i = owned.count++;
  owned.streams[i] = stream;
  owned.keys[i] = key;
  owned.defs[i] = def;
  owned.stored[i] = held;
  owned.lasts[i] = last;
  return true;
}
