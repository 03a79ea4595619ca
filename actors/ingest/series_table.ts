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
import type { Label, LabelSelector, MetricType } from "../../protocol/prometheus/mod.ts";
import { seriesChannel } from "../../protocol/prometheus/mod.ts";
import { keyHash, type KeyPlace, type KeySource, SeriesKeys } from "./_series_keys.ts";
import { selectsSeries } from "./series_selection.ts";
import { sourceLabels } from "./source_labels.ts";

export { type KeySource, keySource } from "./_series_keys.ts";

/** A series the table knows: taken (it feeds `channel`) or not. */
export interface SeriesEntry extends KeyPlace {
  /** "" when taken, else why not: unmatched, or refused for the channel limit. */
  skipped: "" | "unmatched" | "channel_limit";
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
  readonly #match: readonly LabelSelector[];
  readonly #channelsMax: number;
  /** Series seen, by the hash of their label bytes (others of the same hash chained on). */
  readonly #seen = new Map<number, SeriesEntry>();
  readonly #keys = new SeriesKeys();
  /** Each taken series' last sample taken, by its id: time (ms; NaN for none) and value. */
  lastT = new Float64Array(64);
  lastV = new Float64Array(64);
  #ids = 0;
  #skippedCount = 0;
  /** Channel names in use. */
  /** The channels fed, each with its source labels (for the scores back out). */
  readonly #channels = new Map<string, readonly Label[]>();
  /** Metric families' types from metadata. */
  readonly #types = new Map<string, MetricType>();
  /** Moves on when a family's type changes, so series typed before it are judged again. */
  #typesVersion = 0;

  constructor(match: readonly LabelSelector[], channelsMax: number) {
    this.#match = match;
    this.#channelsMax = channelsMax;
  }

  /** Channels fed. */
  get channels(): number {
    return this.#channels.size;
  }

  /** The source labels of a channel this table feeds (sourceLabels), or undefined. */
  labelsOf(channel: string): readonly Label[] | undefined {
    return this.#channels.get(channel);
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
    if (!selectsSeries(this.#match, labels)) {
      if (this.#skippedCount >= SKIPPED_MAX) this.#forgetSkipped();
      this.#skippedCount++;
      return this.#remember(src, from, to, entry("unmatched"), after);
    }
    // Not remembered: a channel may be freed later, and then this series gets it.
    if (this.#channels.size >= this.#channelsMax) return entry("channel_limit");
    let channel = seriesChannel(labels);
    if (this.#channels.has(channel)) channel = seriesChannel(labels, true);
    if (this.#channels.has(channel)) return entry("channel_limit");
    const name = labels.find((l) => l.name === "__name__")?.value ?? "";
    this.#channels.set(channel, sourceLabels(labels));
    const s = entry("");
    s.id = this.#newId();
    s.channel = channel;
    s.name = name;
    s.counter = this.#isCounter(name);
    s.counterAlways = name.endsWith("_total");
    s.typedAt = this.#typesVersion;
    return this.#remember(src, from, to, s, after);
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
