/**
 * What the dashboard knows of every channel, card or not: its labels (the channel record, `GET
 * /channels`), its latest score and its open incidents, from which the grid's order, groups and
 * filter are decided (`orderChannels`, `parseChannelFilter`). The score is read off the anomaly
 * actor's columns as they arrive: the newest sample's distance from the expected value in half
 * band widths (`|value - expected| / (upper - expected)`), 1 at the band's edge, which is how far
 * out of the ordinary the channel is now, on one scale for every channel whatever its unit; a
 * channel in trouble ranks by its highest score while its trouble lasts (OUT_HOLD_US), as an open
 * incident ranks by its peak severity and stays open a while after its last finding. It also
 * keeps each channel's last TAIL points (of the first `tails_max` channels), so that a card the
 * grid makes for a channel that rose in the order starts with its recent line rather than empty
 * until its next samples (a scrape every 15 s is a long wait).
 */
import type { Incident } from "../../../../protocol/mod.ts";
import type { Label } from "../../../../protocol/prometheus/mod.ts";
import { type ChannelGroup, orderChannels } from "./order_channels.ts";
import type { ChannelFilter } from "./channel_filter.ts";
import { groupKey } from "./series_name.ts";
import { SeriesRing } from "../plot/mod.ts";

/** Bounds of the index: channels known, channels with a tail kept, and a tail's points. */
export const CHANNEL_INDEX_LIMITS = {
  channels_max: 100_000,
  tails_max: 4096,
  tail_points: 240,
} as const;

/** Columns a tail keeps: t (seconds), value, expected, lower, upper. */
const TAIL_COLUMNS = 5;

/**
 * How long a channel's trouble lasts in the order after its last sample out of its band, in the
 * samples' time (µs): the incident stage's default hold (`hold_us`, Prometheus's
 * `keep_firing_for`), for which an incident of the channel stays open after its last finding.
 * From its first sample out of its band to OUT_HOLD_US after its last, a channel ranks by the
 * highest score it had in that time (as an open incident ranks by its peak severity), in its band
 * or out of it: so a channel whose samples go in and out of its band, or whose score wanders out
 * of it, keeps one place while its trouble lasts, rather than moving at every order taken; then it
 * goes back to its place in the name order.
 */
export const OUT_HOLD_US = 30_000_000;

/** Every channel's labels, score and open incidents. */
export class ChannelIndex {
  readonly #labels = new Map<string, readonly Label[]>();
  /** Each recorded channel's group (`groupKey` of its labels), made once when they are taken:
   *  the order is taken every few seconds over every channel. */
  readonly #groups = new Map<string, string>();
  readonly #scores = new Map<string, number>();
  /** Channels in trouble (OUT_HOLD_US): their last sample's time out of their band (µs) and
   *  the highest score they had since their trouble began, which they rank by meanwhile. */
  readonly #held = new Map<string, { t: number; score: number }>();
  /** The newest sample's time of any channel (µs): the feed's clock, which ends holds. */
  #now = -Infinity;
  readonly #tails = new Map<string, SeriesRing>();
  /** Open incidents by id: each member's channel and its peak severity in the incident. */
  readonly #open = new Map<string, Array<{ channel: string; severity: number }>>();

  /** Channels known: recorded, scored or in an open incident. */
  channels(): string[] {
    const all = new Set([...this.#labels.keys(), ...this.#scores.keys()]);
    for (const o of this.#open.values()) for (const m of o) all.add(m.channel);
    return [...all];
  }

  /** Channels that sent samples (a new one changes it). */
  get size(): number {
    return this.#scores.size;
  }

  /** Takes the channel record's labels (what the server answered, whole). */
  setLabels(list: ReadonlyArray<{ channel: string; labels: readonly Label[] }>): void {
    for (const c of list) {
      if (this.#labels.size >= CHANNEL_INDEX_LIMITS.channels_max) break;
      this.#labels.set(c.channel, c.labels);
      this.#groups.set(c.channel, groupKey(c.labels));
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
    let tail = this.#tails.get(channel);
    if (!tail && this.#tails.size < CHANNEL_INDEX_LIMITS.tails_max) {
      this.#tails.set(
        channel,
        tail = new SeriesRing(TAIL_COLUMNS, CHANNEL_INDEX_LIMITS.tail_points),
      );
    }
    tail?.append(
      cols,
      Math.max(0, n - CHANNEL_INDEX_LIMITS.tail_points),
      Math.min(n, CHANNEL_INDEX_LIMITS.tail_points),
      1e-6,
    );
    const v = cols[1]![n - 1]!, expected = cols[2]![n - 1]!, upper = cols[4]![n - 1]!;
    const half = upper - expected;
    const raw = half > 0 ? Math.abs(v - expected) / half : v === expected ? 0 : Infinity;
    const score = Number.isNaN(raw) ? 0 : raw;
    this.#scores.set(channel, score);
    const t = cols[0]![n - 1]!;
    if (t > this.#now) this.#now = t;
    if (score < 1) return;
    const held = this.#held.get(channel);
    if (held !== undefined && this.#now - held.t < OUT_HOLD_US) {
      if (t > held.t) held.t = t;
      if (score > held.score) held.score = score;
    } else this.#held.set(channel, { t, score });
  }

  /**
   * The score `channel` is ordered by: the highest it had while in trouble (within OUT_HOLD_US
   * of its last sample out of its band, by the feed's clock: a channel gone quiet is let go too),
   * else its latest.
   */
  #rankScore(channel: string): number {
    const held = this.#held.get(channel);
    if (held === undefined) return this.score(channel);
    if (this.#now - held.t < OUT_HOLD_US) return held.score;
    this.#held.delete(channel);
    return this.score(channel);
  }

  /** Whether `channel` sent samples. */
  knows(channel: string): boolean {
    return this.#scores.has(channel);
  }

  /** The last points kept of `channel`, as the anomaly actor's columns come (t in µs), or
   *  undefined with none kept. */
  tail(channel: string): Float64Array[] | undefined {
    const ring = this.#tails.get(channel);
    if (!ring || ring.length === 0) return undefined;
    const cols = Array.from({ length: TAIL_COLUMNS }, (_, c) => ring.view(c).slice());
    for (let i = 0; i < cols[0]!.length; i++) cols[0]![i]! *= 1e6;
    return cols;
  }

  /** Whether something is wrong with `channel` now: an open incident, or its newest sample
   *  outside its band (a score of 1 or more). */
  wrong(channel: string): boolean {
    if (this.score(channel) >= 1) return true;
    for (const o of this.#open.values()) if (o.some((m) => m.channel === channel)) return true;
    return false;
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
        group: this.#groups.get(channel) ?? "",
        openSeverity: o?.severity ?? 0,
        open: o?.n ?? 0,
        score: this.#rankScore(channel),
      });
    }
    return orderChannels(facts);
  }
}
