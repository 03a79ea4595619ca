/**
 * What the receiver knows of each series it has seen, found by the bytes of its labels (a hash
 * of them, then the bytes compared, so a series' labels are decoded and matched once, not on
 * every request): the channel it feeds (or
 * that it is not taken), whether it is a counter, and its last sample, from which a counter's
 * rate is taken and a sample at or before it is known as out of order or a duplicate. The
 * channels fed are bounded: a new series past `channelsMax` is refused. Series not taken are
 * remembered too, so they are dropped at the cost of a map lookup, up to a bound past which
 * that memory starts again.
 */
import type { Label, LabelSelector, MetricType } from "../../protocol/prometheus/mod.ts";
import { seriesChannel } from "../../protocol/prometheus/mod.ts";

/** A series taken. */
export interface SeriesState {
  /** Its label bytes (a copy). */
  key: Uint8Array;
  channel: string;
  /** Its metric name (`__name__`), by which metadata types it. */
  name: string;
  counter: boolean;
  /** Whether it counts up whatever metadata says (a `_total` name, an OTLP monotonic sum). */
  counterAlways: boolean;
  /** The table's types version its `counter` was judged at (typesVersion). */
  typedAt: number;
  /** The last sample taken: time (ms) and value (a counter's raw value); NaN time for none. */
  lastT: number;
  lastV: number;
}

/** A series not taken: unmatched, or refused for the channel limit. */
export interface SeriesSkipped {
  key: Uint8Array;
  skipped: "unmatched" | "channel_limit";
}

/** FNV-1a over `bytes` from `from` to `to`. */
export function keyHash(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(key: Uint8Array, bytes: Uint8Array, from: number, to: number): boolean {
  if (key.length !== to - from) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== bytes[from + i]) return false;
  return true;
}

/** Series not taken remembered at most before that memory starts again. */
const SKIPPED_MAX = 100_000;

/** The receiver's series. */
export class SeriesTable {
  readonly #match: readonly LabelSelector[];
  readonly #channelsMax: number;
  /** Series seen, by the hash of their label bytes (a list for hashes that collide). */
  readonly #seen = new Map<number, Array<SeriesState | SeriesSkipped>>();
  #skippedCount = 0;
  /** Channel names in use. */
  readonly #channels = new Set<string>();
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
  retype(s: SeriesState): void {
    if (s.typedAt === this.#typesVersion) return;
    s.typedAt = this.#typesVersion;
    if (!s.counterAlways) s.counter = this.#isCounter(s.name);
  }

  /** The known state of the series whose label bytes are `bytes[from..to)`, if any. */
  get(
    hash: number,
    bytes: Uint8Array,
    from: number,
    to: number,
  ): SeriesState | SeriesSkipped | undefined {
    const list = this.#seen.get(hash);
    if (list === undefined) return undefined;
    for (const s of list) if (sameBytes(s.key, bytes, from, to)) return s;
    return undefined;
  }

  /** Resolves a series seen for the first time, from its decoded labels. */
  add(
    hash: number,
    key: Uint8Array,
    labels: readonly Label[],
  ): SeriesState | SeriesSkipped {
    if (this.#match.length > 0 && !this.#match.some((s) => s.matches(labels))) {
      if (this.#skippedCount >= SKIPPED_MAX) this.#forgetSkipped();
      this.#skippedCount++;
      return this.#remember(hash, { key: key.slice(), skipped: "unmatched" });
    }
    if (this.#channels.size >= this.#channelsMax) {
      // Not remembered: a channel may be freed later, and then this series gets it.
      return { key, skipped: "channel_limit" };
    }
    let channel = seriesChannel(labels);
    if (this.#channels.has(channel)) channel = seriesChannel(labels, true);
    if (this.#channels.has(channel)) return { key, skipped: "channel_limit" };
    const name = labels.find((l) => l.name === "__name__")?.value ?? "";
    this.#channels.add(channel);
    return this.#remember(hash, {
      key: key.slice(),
      channel,
      name,
      counter: this.#isCounter(name),
      counterAlways: name.endsWith("_total"),
      typedAt: this.#typesVersion,
      lastT: NaN,
      lastV: 0,
    });
  }

  #remember<S extends SeriesState | SeriesSkipped>(hash: number, s: S): S {
    const list = this.#seen.get(hash);
    if (list === undefined) this.#seen.set(hash, [s]);
    else list.push(s);
    return s;
  }

  /** Forgets the series not taken (they are matched again when next seen). */
  #forgetSkipped(): void {
    for (const [h, list] of this.#seen) {
      const kept = list.filter((s) => "channel" in s);
      if (kept.length === 0) this.#seen.delete(h);
      else this.#seen.set(h, kept);
    }
    this.#skippedCount = 0;
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
