/**
 * The journal's streams a start does not take (of a kind the host does not run, another's
 * partition, the edge's of another host) and the journal's compaction: what their stored
 * snapshots cover is noted, so that those records hold nothing back, and the streams of kinds the
 * host does not run (a kind taken out of its configuration) that hold records past their
 * snapshots, or have no snapshot the host knows of, are named. Nothing on this host snapshots them
 * again, so its journal keeps those records for good: a file journal the sealed segments that hold
 * them, a leased partition's stream (cut whole) everything from the first of them on, a stream
 * that then grows without bound. Said once at a start, by kind, so that a journal that does not
 * shrink has a named cause. Private to the recovery folder.
 */
import type { RecoveryAccess } from "./recovery_access.ts";

/** Notes what the stored snapshots of `others` cover; logs which of a kind not run hold records. */
export function noteStreamsNotTaken(h: RecoveryAccess, others: readonly string[]): void {
  for (const stream of others) h.snapshotter.noteStoredNow(stream);
  const unrun = unrunKindsHolding(others, {
    kinds: h.kinds,
    savedPos: h.snapshotter.savedPos,
    lastPosition: (stream) => h.journal.lastPosition(stream),
  });
  if (unrun !== undefined) h.log(unrun);
}

/** What the count asks of the host: its kinds, the snapshots' positions, the journal's ends. */
export interface UnrunKindsParts {
  kinds: ReadonlyMap<string, unknown>;
  /** Each stream's snapshot position, where known. */
  savedPos: ReadonlyMap<string, number>;
  /** A stream's last position in the journal (0: none). */
  lastPosition(stream: string): number;
}

/**
 * The start's line for `others` (the journal's streams the host does not take), or undefined
 * where none of a kind it does not run holds a record past its snapshot. Internal streams
 * (`_edge/...`: no kind starts with `_`) and another partition's streams of a kind it runs are
 * not counted.
 */
export function unrunKindsHolding(
  others: readonly string[],
  parts: UnrunKindsParts,
): string | undefined {
  const held = new Map<string, { streams: number; unsnapshotted: number }>();
  for (const stream of others) {
    const slash = stream.indexOf("/");
    if (slash <= 0 || stream.charCodeAt(0) === 0x5f) continue;
    const kind = stream.slice(0, slash);
    if (parts.kinds.has(kind)) continue;
    const saved = parts.savedPos.get(stream);
    if (parts.lastPosition(stream) <= (saved ?? 0)) continue;
    let count = held.get(kind);
    if (count === undefined) held.set(kind, count = { streams: 0, unsnapshotted: 0 });
    count.streams++;
    if (saved === undefined) count.unsnapshotted++;
  }
  if (held.size === 0) return undefined;
  const byKind = [...held].sort(([a], [b]) => (a < b ? -1 : 1)).map(([kind, c]) =>
    `${kind} ${c.streams}` +
    (c.unsnapshotted > 0 ? ` (${c.unsnapshotted} with no snapshot known)` : "")
  );
  return `journal streams of kinds this host does not run hold records past their snapshots: ` +
    `${byKind.join(", ")}. The journal keeps them (a leased partition's stream, everything ` +
    `after the first of them) until the kind runs here again and snapshots its instances`;
}
