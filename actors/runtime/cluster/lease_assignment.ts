/**
 * The even share of partitions among the live hosts of a cluster, computed the same by every host
 * from the same list: each host's quota is ⌊count / hosts⌋ or one more, and partitions go to hosts
 * by rendezvous hashing (each (partition, host) pair has a weight; the heaviest pairs are matched
 * first, within the quotas). So a host that joins or leaves moves about its own share, not every
 * partition, as `p mod hosts` would.
 */

/** The owner of each partition (index: partition) among `hosts`; empty hosts: all undefined. */
export function assignPartitions(
  count: number,
  hosts: readonly string[],
): Array<string | undefined> {
  const owners = new Array<string | undefined>(count).fill(undefined);
  if (hosts.length === 0) return owners;
  const sorted = [...new Set(hosts)].sort();
  const base = Math.floor(count / sorted.length);
  const extra = count % sorted.length;
  const quota = new Map(sorted.map((h, i) => [h, base + (i < extra ? 1 : 0)]));
  const pairs: Array<{ p: number; host: string; w: number }> = [];
  for (let p = 0; p < count; p++) {
    for (const host of sorted) pairs.push({ p, host, w: weight(p, host) });
  }
  pairs.sort((a, b) => b.w - a.w || a.p - b.p || (a.host < b.host ? -1 : 1));
  let left = count;
  for (const { p, host } of pairs) {
    if (left === 0) break;
    const q = quota.get(host)!;
    if (owners[p] !== undefined || q === 0) continue;
    owners[p] = host;
    quota.set(host, q - 1);
    left--;
  }
  return owners;
}

/** The rendezvous weight of a (partition, host) pair: FNV-1a, then a final avalanche. */
function weight(partition: number, host: string): number {
  let h = 0x811c9dc5 ^ partition;
  for (let i = 0; i < host.length; i++) {
    h ^= host.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
