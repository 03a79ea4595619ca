/**
 * What the dashboard knows of every channel, card or not: its labels (the channel record, `GET
 * /channels`), its latest score and its open incidents, from which the grid's order, groups and
 * filter are decided (`orderChannels`, `parseChannelFilter`). The score is read off the anomaly
 * actor's columns as they arrive: the newest sample's distance from the expected value in half
 * band widths (`|value - expected| / (upper - expected)`), 1 at the band's edge, which is how far
 * out of the ordinary the channel is now, on one scale for every channel whatever its unit.
 */
import type { Incident } from "../../../../protocol/mod.ts";
import type { Label } from "../../../../protocol/prometheus/mod.ts";
import { type ChannelGroup, orderChannels } from "./order_channels.ts";
import type { ChannelFilter } from "./channel_filter.ts";
import { groupKey } from "./series_name.ts";

/** Bounds of the index. */
export const CHANNEL_INDEX_LIMITS = { channels_max: 100_000 } as const;

/** Every channel's labels, score and open incidents. */
export class ChannelIndex {
  readonly #labels = new Map<string, readonly Label[]>();
  readonly #scores = new Map<string, number>();
  /** Open incidents by id: each member's channel and its peak severity in the incident. */
  readonly #open = new Map<string, Array<{ channel: string; severity: number }>>();

  /** Channels known: recorded, scored or in an open incident. */
  channels(): string[] {
    const all = new Set([...this.#labels.keys(), ...this.#scores.keys()]);
    for (const o of this.#open.values()) for (const m of o) all.add(m.channel);
    return [...all];
  }

  /** Takes the channel record's labels (what the server answered, whole). */
  setLabels(list: ReadonlyArray<{ channel: string; labels: readonly Label[] }>): void {
    for (const c of list) {
      if (this.#labels.size >= CHANNEL_INDEX_LIMITS.channels_max) break;
      this.#labels.set(c.channel, c.labels);
    }
  }

  /** The labels recorded for `channel`, if any. */
  labels(channel: string): readonly Label[] | undefined {
    return this.#labels.get(channel);
  }

  /** Takes the newest of `n` samples in the reader's columns (t, value, expected, lower, upper). */
  sampled(channel: string, cols: readonly Float64Array[], n: number): void {
    if (n <= 0) return;
    if (!this.#scores.has(channel) && this.#scores.size >= CHANNEL_INDEX_LIMITS.channels_max) {
      return;
    }
    const v = cols[1]![n - 1]!, expected = cols[2]![n - 1]!, upper = cols[4]![n - 1]!;
    const half = upper - expected;
    const score = half > 0 ? Math.abs(v - expected) / half : v === expected ? 0 : Infinity;
    this.#scores.set(channel, Number.isNaN(score) ? 0 : score);
  }

  /** The latest score of `channel`, NaN before its first sample. */
  score(channel: string): number {
    return this.#scores.get(channel) ?? NaN;
  }

  /** Takes an incident as it is now: open (pending, firing) it counts, resolved it does not;
   *  each member by its own peak severity (the series that set the incident off first). */
  incident(i: Incident): void {
    if (i.state === "resolved") this.#open.delete(i.id);
    else {
      this.#open.set(
        i.id,
        i.members.map((m) => ({ channel: m.channel, severity: m.peak_severity })),
      );
    }
  }

  /** The channels passing `filter`, grouped and worst first (`orderChannels`). */
  order(filter: ChannelFilter, among: Iterable<string> = this.channels()): ChannelGroup[] {
    const open = new Map<string, { n: number; severity: number }>();
    for (const o of this.#open.values()) {
      for (const m of o) {
        const was = open.get(m.channel) ?? { n: 0, severity: 0 };
        open.set(m.channel, { n: was.n + 1, severity: Math.max(was.severity, m.severity) });
      }
    }
    const facts = [];
    for (const channel of among) {
      const labels = this.#labels.get(channel);
      if (!filter.matches(channel, labels)) continue;
      const o = open.get(channel);
      facts.push({
        channel,
        group: groupKey(labels),
        openSeverity: o?.severity ?? 0,
        open: o?.n ?? 0,
        score: this.score(channel),
      });
    }
    return orderChannels(facts);
  }
}
