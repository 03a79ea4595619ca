/**
 * What the receiver knows of each series it has seen, found by the bytes of its labels (a hash
 * of them, then the bytes compared, so a series' labels are decoded and matched once, not on
 * every request; and first as the series that followed the one before it last time, which saves
 * the hash when a sender repeats its order): the channel it feeds (or that it is not taken),
 * whether it is a counter, and its last sample (in columns by the series' place, not in its
 * object: one number each, read and written in place), from which a counter's rate is taken and
 * a sample at or before it is known as out of order or a duplicate. The channels fed are
 * bounded: a new series past `channelsMax` is refused. Series not taken are remembered too, so
 * they are dropped at the cost of a map lookup, up to a bound past which that memory starts
 * again.
 */
import type { Label, MetricType } from "../../protocol/prometheus/mod.ts";
import { seriesChannel } from "../../protocol/prometheus/mod.ts";
import { keyHash, type KeyPlace, type KeySource, SeriesKeys } from "./_series_keys.ts";
import { ChannelNameBytes, type NamePlace } from "./_channel_name_bytes.ts";
import { selectsSeries, type SeriesSelection } from "./series_selection.ts";
import { sourceLabels } from "./source_labels.ts";

export { type KeySource, keySource } from "./_series_keys.ts";

/** A series the table knows: taken (it feeds `channel`) or not. */
export interface SeriesEntry extends KeyPlace, NamePlace {
  /**
   * "" when taken, else why not: unmatched, refused for the channel limit, or vacant (admitted,
   * but none of its samples was taken, so it holds no channel until one is).
   */
  skipped: "" | "unmatched" | "channel_limit" | "vacant";
  /** A taken series' place in the table's last-sample columns (`lastT`, `lastV`); else -1. */
  id: number;
  channel: string;
  /** Its metric name (`__name__`), by which metadata types it. */
  name: string;
  counter: boolean;
  /** Whether it counts up whatever metadata says (a `_total` name, an OTLP monotonic sum). */
  counterAlways: boolean;
  /** The table's types version its `counter` was judged at (typesVersion). */
  typedAt: number;
  /** The next series kept under the same hash (a collision). */
  sameHash: SeriesEntry | undefined;
  /**
   * The series that came after this one in the last request that held both: senders send their
   * series in much the same order request after request, so it is the first one tried.
   */
  next: SeriesEntry | undefined;
}

/** Series not taken remembered at most before that memory starts again. */
const SKIPPED_MAX = 100_000;

/** The receiver's series. */
export class SeriesTable {
  readonly #selection: SeriesSelection;
  readonly #channelsMax: number;
  /** Series seen, by the hash of their label bytes (others of the same hash chained on). */
  readonly #seen = new Map<number, SeriesEntry>();
  readonly #keys = new SeriesKeys();
  /** Each taken series' last sample taken, by its id: time (ms; NaN for none) and value. */
  lastT = new Float64Array(64);
  lastV = new Float64Array(64);
  /** The channel names of the series taken, as bytes (a batch's names are copied from them). */
  readonly names = new ChannelNameBytes();
  #ids = 0;
  #skippedCount = 0;
  /** Channel names in use: held by a series here, or recorded as admitted before (`reserve`). */
  readonly #channels = new Set<string>();
  /** Channel names held by a series here. */
  readonly #held = new Set<string>();
  /** Channels recorded as admitted before, by their label set's key (`recordKey`). */
  readonly #recorded = new Map<string, string>();
  /** The channel names of the record. */
  readonly #reserved = new Set<string>();
  /** The source labels of each channel held (sourceLabels), for the scores back out. */
  readonly #labels = new Map<string, readonly Label[]>();
  /** Metric families' types from metadata. */
  readonly #types = new Map<string, MetricType>();
  /** Moves on when a family's type changes, so series typed before it are judged again. */
  #typesVersion = 0;

  constructor(selection: SeriesSelection, channelsMax: number) {
    this.#selection = selection;
    this.#channelsMax = channelsMax;
  }

  /** Channels fed. */
  get channels(): number {
    return this.#channels.size;
  }

  /** The source labels of a channel this table feeds (sourceLabels), or undefined. */
  labelsOf(channel: string): readonly Label[] | undefined {
    return this.#labels.get(channel);
  }

  /** Whether `channel` is one this table feeds. */
  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  /** Notes a family's type from a request's metadata. */
  noteType(family: string, type: MetricType): void {
    if (this.#types.get(family) === type) return;
    if (this.#types.size >= SKIPPED_MAX && !this.#types.has(family)) this.#types.clear();
    this.#types.set(family, type);
    this.#typesVersion++;
  }

  /**
   * Judges again whether `s` counts up when metadata changed since it was last judged: a series
   * taken as a gauge becomes a rate from its next sample once its family is typed a counter (its
   * last raw value is the rate's start), and one typed back to a gauge passes its values again.
   */
  retype(s: SeriesEntry): void {
    if (s.typedAt === this.#typesVersion) return;
    s.typedAt = this.#typesVersion;
    if (!s.counterAlways) s.counter = this.#isCounter(s.name);
  }

  /**
   * The known series whose label bytes are `src[from..to)`, if any: first the one that followed
   * `after` (the request's series before it) last time, then by the bytes' hash.
   */
  find(
    src: KeySource,
    from: number,
    to: number,
    after: SeriesEntry | undefined,
  ): SeriesEntry | undefined {
    const keys = this.#keys;
    const guess = after?.next;
    if (guess !== undefined && keys.same(guess, src, from, to)) return guess;
    let s = this.#seen.get(keyHash(src, from, to));
    while (s !== undefined && !keys.same(s, src, from, to)) s = s.sameHash;
    if (s !== undefined && after !== undefined) after.next = s;
    return s;
  }

  /**
   * Resolves a series seen for the first time (its label bytes `src[from..to)`), from its
   * decoded labels; `after` is the request's series before it.
   */
  add(
    src: KeySource,
    from: number,
    to: number,
    labels: readonly Label[],
    after: SeriesEntry | undefined,
  ): SeriesEntry {
    const entry = (skipped: SeriesEntry["skipped"]): SeriesEntry => ({
      keyAt: -1,
      keyLength: -1,
      nameAt: -1,
      nameLength: 0,
      skipped,
      id: -1,
      channel: "",
      name: "",
      counter: false,
      counterAlways: false,
      typedAt: 0,
      sameHash: undefined,
      next: undefined,
    });
    if (!selectsSeries(this.#selection, labels)) {
      if (this.#skippedCount >= SKIPPED_MAX) this.#forgetSkipped();
      this.#skippedCount++;
      return this.#remember(src, from, to, entry("unmatched"), after);
    }
    // Not remembered: a channel may be freed later, and then this series gets it.
    const s = entry("");
    if (!this.claim(s, labels)) return entry("channel_limit");
    const name = labels.find((l) => l.name === "__name__")?.value ?? "";
    s.id = this.#newId();
    s.name = name;
    s.counter = this.#isCounter(name);
    s.counterAlways = name.endsWith("_total");
    s.typedAt = this.#typesVersion;
    return this.#remember(src, from, to, s, after);
  }

  /**
   * Gives the series `s` (new, or vacant) a channel for `labels`: the one recorded for its label
   * set, else its name (`seriesChannel`), else, when another label set holds that name, the
   * hashed form; false when there is no room under the limit (or the hashed name is taken too).
   */
  claim(s: SeriesEntry, labels: readonly Label[]): boolean {
    let channel = this.#recorded.size > 0 ? this.#recorded.get(recordKey(labels)) : undefined;
    if (channel !== undefined && this.#held.has(channel)) channel = undefined;
    if (channel === undefined) {
      if (this.#channels.size >= this.#channelsMax) return false;
      channel = seriesChannel(labels);
      if (this.#channels.has(channel)) channel = seriesChannel(labels, true);
      if (this.#channels.has(channel)) return false;
    }
    this.#channels.add(channel);
    this.#held.add(channel);
    this.#labels.set(channel, sourceLabels(labels));
    s.channel = channel;
    s.skipped = "";
    this.names.place(s, () => this.#keptEntries());
    if (s.id >= 0) this.lastT[s.id] = NaN;
    return true;
  }

  /**
   * Frees the channel of `s`, taken by a request none of whose samples for it was journaled: a
   * channel the host never saw takes no place under the limit. `s` is claimed again when a later
   * request brings a sample it takes.
   */
  vacate(s: SeriesEntry): void {
    if (s.skipped !== "") return;
    // A channel of the record stays counted: the host may have admitted it before.
    if (!this.#reserved.has(s.channel)) this.#channels.delete(s.channel);
    this.#held.delete(s.channel);
    this.#labels.delete(s.channel);
    s.skipped = "vacant";
    this.lastT[s.id] = NaN;
  }

  /**
   * Counts `channel` as admitted before, for the series of `labels` (a record of the channels
   * this receiver admitted, read when it starts): it takes its place under the limit, and the
   * series of `labels` gets this name back whatever order the series come in.
   */
  reserve(channel: string, labels: readonly Label[]): void {
    this.#channels.add(channel);
    this.#reserved.add(channel);
    this.#recorded.set(recordKey(labels), channel);
  }

  /** A place in the last-sample columns, which grow to hold it. */
  #newId(): number {
    const id = this.#ids++;
    if (id >= this.lastT.length) {
      const t = new Float64Array(this.lastT.length * 2), v = new Float64Array(t.length);
      t.set(this.lastT);
      v.set(this.lastV);
      this.lastT = t;
      this.lastV = v;
    }
    this.lastT[id] = NaN;
    this.lastV[id] = 0;
    return id;
  }

  #remember(
    src: KeySource,
    from: number,
    to: number,
    s: SeriesEntry,
    after: SeriesEntry | undefined,
  ): SeriesEntry {
    s.keyAt = this.#keys.add(src, from, to);
    s.keyLength = to - from;
    const hash = keyHash(src, from, to);
    s.sameHash = this.#seen.get(hash);
    this.#seen.set(hash, s);
    if (after !== undefined) after.next = s;
    return s;
  }

  /**
   * Forgets the series not taken (they are matched again when next seen), and what followed
   * what, so that nothing forgotten is still reached from a series kept.
   */
  #forgetSkipped(): void {
    for (const [h, first] of this.#seen) {
      let kept: SeriesEntry | undefined;
      for (let s: SeriesEntry | undefined = first; s !== undefined;) {
        const other: SeriesEntry | undefined = s.sameHash;
        s.next = undefined;
        if (s.skipped === "") {
          s.sameHash = kept;
          kept = s;
        }
        s = other;
      }
      if (kept === undefined) this.#seen.delete(h);
      else this.#seen.set(h, kept);
    }
    this.#keys.keepOnly(this.#keptEntries());
    this.#skippedCount = 0;
  }

  *#keptEntries(): Generator<SeriesEntry> {
    for (const first of this.#seen.values()) {
      for (let s: SeriesEntry | undefined = first; s !== undefined; s = s.sameHash) yield s;
    }
  }

  /** Whether a metric of `name` counts up: `_total`, or typed so by metadata. */
  #isCounter(name: string): boolean {
    if (name.endsWith("_total")) return true;
    const type = this.#types.get(name);
    if (type !== undefined) return type === "counter";
    // A histogram's or summary's _count, _sum and _bucket count up too.
    const cut = name.lastIndexOf("_");
    if (cut < 0) return false;
    const suffix = name.slice(cut);
    if (suffix !== "_count" && suffix !== "_sum" && suffix !== "_bucket") return false;
    const family = this.#types.get(name.slice(0, cut));
    return family === "histogram" || family === "summary";
  }
}

/**
 * The key of a label set as the record of admitted channels keeps it: its source labels (what
 * the channel labels book stores), sorted.
 */
export function recordKey(labels: readonly Label[]): string {
  const sorted = sourceLabels(labels).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  let key = "";
  for (const l of sorted) key += `${l.name}\u0000${l.value}\u0000`;
  return key;
}
