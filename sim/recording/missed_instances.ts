/**
 * The instances a state capture missed, said a line a reason: a host that cannot be captured at
 * all (its input far behind) misses every instance for one reason, and a fleet host has hundreds
 * of thousands of them.
 */

/** An instance a host did not capture, and why. */
export interface MissedInstance {
  stream: string;
  reason: string;
}

/** Streams a line names before it counts the rest. */
const NAMED_MAX = 3;

/** `missed` grouped by reason, in the order each reason first appears. */
export function missedByReason(
  missed: readonly MissedInstance[],
): Array<{ reason: string; streams: string[] }> {
  const groups = new Map<string, string[]>();
  for (const m of missed) {
    const streams = groups.get(m.reason);
    if (streams) streams.push(m.stream);
    else groups.set(m.reason, [m.stream]);
  }
  return [...groups].map(([reason, streams]) => ({ reason, streams }));
}

/**
 * What a line says of `streams` (two or more): their count and the first few names, as
 * `4 instances (stats/a, stats/b, stats/c and 1 more)`.
 */
export function namedInstances(streams: readonly string[]): string {
  const named = streams.slice(0, NAMED_MAX).join(", ");
  const more = streams.length - NAMED_MAX;
  return `${streams.length.toLocaleString("en-US")} instances (${named}` +
    (more > 0 ? ` and ${more.toLocaleString("en-US")} more)` : ")");
}
