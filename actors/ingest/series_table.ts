/**
 * What the receiver knows of each series it has seen, found by the bytes of its labels (so a
 * series' labels are decoded and matched once, not on every request): the channel it feeds (or
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
  channel: string;
  counter: boolean;
  /** The last sample taken: time (ms) and value (a counter's raw value); NaN time for none. */
  lastT: number;
  lastV: number;
}

/** A series not taken: unmatched, or refused for the channel limit. */
export interface SeriesSkipped {
  skipped: "unmatched" | "channel_limit";
}

/** Series not taken remembered at most before that memory starts again. */
const SKIPPED_MAX = 100_000;

/** The receiver's series. */
export class SeriesTable {
  readonly #match: readonly LabelSelector[];
  readonly #channelsMax: number;
  readonly #taken = new Map<string, SeriesState>();
  readonly #skipped = new Map<string, SeriesSkipped>();
  /** Channel names in use, to the key of the series that holds each. */
  readonly #channels = new Map<string, string>();
  /** Metric families' types from metadata. */
  readonly #types = new Map<string, MetricType>();

  constructor(match: readonly LabelSelector[], channelsMax: number) {
    this.#match = match;
    this.#channelsMax = channelsMax;
  }

  /** Channels fed. */
  get channels(): number {
    return this.#channels.size;
  }

  /** Notes a family's type from a request's metadata. */
  noteType(family: string, type: MetricType): void {
    if (this.#types.size >= SKIPPED_MAX && !this.#types.has(family)) this.#types.clear();
    this.#types.set(family, type);
  }

  /** The known state of the series whose label bytes are `key`, if any. */
  get(key: string): SeriesState | SeriesSkipped | undefined {
    return this.#taken.get(key) ?? this.#skipped.get(key);
  }

  /** Resolves a series seen for the first time, from its decoded labels. */
  add(key: string, labels: readonly Label[]): SeriesState | SeriesSkipped {
    if (this.#match.length > 0 && !this.#match.some((s) => s.matches(labels))) {
      return this.#skip(key, { skipped: "unmatched" });
    }
    if (this.#channels.size >= this.#channelsMax) {
      // Not remembered: a channel may be freed later, and then this series gets it.
      return { skipped: "channel_limit" };
    }
    let channel = seriesChannel(labels);
    if (this.#channels.has(channel)) channel = seriesChannel(labels, true);
    if (this.#channels.has(channel)) return { skipped: "channel_limit" };
    const name = labels.find((l) => l.name === "__name__")?.value ?? "";
    const state: SeriesState = { channel, counter: this.#isCounter(name), lastT: NaN, lastV: 0 };
    this.#channels.set(channel, key);
    this.#taken.set(key, state);
    return state;
  }

  #skip(key: string, s: SeriesSkipped): SeriesSkipped {
    if (this.#skipped.size >= SKIPPED_MAX) this.#skipped.clear();
    this.#skipped.set(key, s);
    return s;
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
