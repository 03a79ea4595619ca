/**
 * The host id of a leased partition's host, `part-<n>`: its journal, control consumer and edge
 * decisions are named by it, so they move with the partition; a step overrun it recorded names it.
 */

/** The host id of partition `p`'s host: its journal, control consumer and decisions follow it. */
export function partitionHostId(p: number): string {
  return `part-${p}`;
}

/** The partition whose host id is `host`, or undefined when it is not a partition's host id. */
export function partitionOfHostId(host: string | undefined): number | undefined {
  const m = /^part-(\d{1,9})$/.exec(host ?? "");
  return m ? Number(m[1]) : undefined;
}
