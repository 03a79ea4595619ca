/**
 * Partitions: actor keys hash to a fixed number of partitions, and one host owns a partition at a
 * time, so each actor instance has a single writer. The hash is FNV-1a over the key's UTF-16 code
 * units: stable across runtimes and releases, since moving a key moves its journal.
 */

/** The partition of `key` among `count` partitions. */
export function partitionOf(key: string, count: number): number {
  // One partition: every key's, without hashing it (a host asks for each input it applies).
  if (count === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/** Parses a partition list such as `0-3,7` (or `all`) against `count` partitions. */
export function parsePartitions(spec: string, count: number): number[] {
  if (spec.trim() === "all") return [...Array(count).keys()];
  const out = new Set<number>();
  for (const part of spec.split(",")) {
    const m = part.trim().match(/^(\d+)(?:-(\d+))?$/);
    if (!m) throw new Error(`Invalid partition list "${spec}": expected e.g. "0-3,7" or "all"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= count) {
      throw new Error(
        `Invalid partition range "${part.trim()}" in "${spec}": partitions are 0 to ${count - 1}`,
      );
    }
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}
