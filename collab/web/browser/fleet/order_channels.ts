/**
 * The order an SRE reads a fleet's channels in: what is wrong now first. A channel with an open
 * incident (pending or firing) comes before any without, the higher the incident's severity the
 * earlier; then the channel's score (how far its newest sample is from what was expected, in band
 * widths; the highest while its trouble lasts, back in its band too: `ChannelIndex`) when it is 1
 * or more, the higher the earlier; then its name (every other channel alike). Channels are
 * grouped by their `instance` and `job` (`groupKey`; those with neither in one group, keyed ""),
 * as Alertmanager groups their alerts, and the groups come in the order of their worst channel,
 * so the machine in trouble is on top with its other series beside it. Pure: the same facts give
 * the same order, whatever order they came in.
 */

/** What the order is decided on, per channel. */
export interface ChannelFacts {
  channel: string;
  /** Its group (`groupKey` of its labels): "" for none. */
  group: string;
  /** Its highest peak severity as a member of an open incident, 0 with none. */
  openSeverity: number;
  /** Its open incidents. */
  open: number;
  /** Its latest score; NaN before its first sample. */
  score: number;
}

/** One group of the order: its key and its channels, worst first. */
export interface ChannelGroup {
  group: string;
  channels: string[];
  /** Its channels with an open incident. */
  open: number;
}

/**
 * What a score counts for in the order: out of its band (1 or more) the score, inside it 0, so
 * that every channel in its band ranks the same (then by name), before those never sampled. The
 * band is the anomaly actor's own line between ordinary and not: inside it a score's wander is
 * what the detector calls nothing, and ranking by it would move a healthy fleet's cards under
 * the reader at every order taken (each ORDER_INTERVAL_MS), building and freeing the cards that
 * come near the window and leave it.
 */
function orderScore(score: number): number {
  return Number.isNaN(score) ? -Infinity : score >= 1 ? score : 0;
}

/** Negative when `a` is worse (comes first). */
function compareFacts(a: ChannelFacts, b: ChannelFacts): number {
  return b.openSeverity - a.openSeverity || b.open - a.open ||
    orderScore(b.score) - orderScore(a.score) ||
    (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0);
}

/** The groups of `facts`, each worst channel first, the group of the worst channel first. */
export function orderChannels(facts: readonly ChannelFacts[]): ChannelGroup[] {
  const sorted = [...facts].sort(compareFacts);
  const groups = new Map<string, ChannelGroup>();
  for (const f of sorted) {
    let g = groups.get(f.group);
    if (!g) groups.set(f.group, g = { group: f.group, channels: [], open: 0 });
    g.channels.push(f.channel);
    if (f.open > 0) g.open++;
  }
  // A Map keeps the order groups were first met in: their worst channels' order.
  return [...groups.values()];
}
