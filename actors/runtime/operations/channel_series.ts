/**
 * A host's channel series (host_metrics.ts, `watchChannels`) in a process of several hosts: a
 * threaded host's threads, a leased host's partitions. The limit is the process's (its memory
 * budget), so the process gives the series once, labelled by its own host id, and each inner
 * host's are taken out of its exposition: a sum over every `host` label then counts a channel
 * once, and `troupe_channels_free` says what the process still holds.
 */

/** The channel series' names. */
export const CHANNEL_SERIES: ReadonlySet<string> = new Set([
  "troupe_channels",
  "troupe_channels_max",
  "troupe_channels_free",
  "troupe_channel_frames_refused_total",
]);

/** An exposition without its channel series, and what they were. */
export interface TakenChannelSeries {
  /** The exposition without them. */
  text: string;
  /** Each family's HELP and TYPE lines, as met first. */
  heads: Map<string, string[]>;
  /** Each family's samples summed over its series. */
  sums: Map<string, number>;
}

/** Takes the channel series out of the Prometheus exposition `text`. */
export function takeChannelSeries(text: string): TakenChannelSeries {
  const heads = new Map<string, string[]>();
  const sums = new Map<string, number>();
  const kept: string[] = [];
  for (const line of text.split("\n")) {
    const meta = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    const name = meta ? meta[1]! : /^[^\s{#]+/.exec(line)?.[0];
    if (name === undefined || !CHANNEL_SERIES.has(name)) {
      kept.push(line);
    } else if (meta) {
      const head = heads.get(name) ?? [];
      if (head.length < 2) heads.set(name, [...head, line]);
    } else {
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      sums.set(name, (sums.get(name) ?? 0) + value);
    }
  }
  return { text: kept.join("\n"), heads, sums };
}
