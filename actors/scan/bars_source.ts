/**
 * Where a scan worker gets a symbol's bars: the bars actors' rings on this host. A symbol's volume
 * is the traded volume of its `<symbol>_vol` channel's bars (their `sum`) where that channel has
 * bars at the same times, else its tick count.
 */
import {
  barSizeUs,
  type BarsState,
  type HeldBars,
  heldCount,
  heldMark,
  heldView,
  readHeld,
  sizeIndex,
} from "../bars/mod.ts";
import type { BarColumns } from "../indicators/mod.ts";

/** Bars by symbol and size. */
export interface BarsSource {
  /** The symbols whose bars are held here (volume channels `<sym>_vol` left out); read only. */
  symbols(): readonly string[];
  /**
   * The closed bars of `symbol` at size `bar`, oldest first, or undefined for a symbol not held.
   * The columns are views into buffers the source reuses, or into the bars actor's own ring:
   * read them only, and only until the source's next call.
   */
  bars(symbol: string, bar: string): BarColumns | undefined;
  /**
   * A number that changes whenever the symbols or their bars may have changed (a channel added, a
   * bar closed, a seed). Two calls that return the same number saw the same symbols and bars, so
   * what was derived from them (the symbol list, the priority order) still holds. Optional: a
   * source without it is read afresh each time.
   */
  version?(): number;
  /**
   * A number that changes whenever the bars of `symbol` at size `bar` change (-1 for a symbol or
   * size not held): what is derived from one symbol's bars (its priority) holds while it does, so
   * a new version recomputes only the symbols whose mark moved. Optional, with `version`.
   */
  mark?(symbol: string, bar: string): number;
  /**
   * The symbols whose bars may have changed since `version()` returned `at` (each once or more;
   * new symbols among them), or undefined when the source cannot say (it has no change feed, or
   * `at` is too long ago): then every symbol counts as changed. Optional, with `version`.
   */
  changedSince?(at: number): readonly string[] | undefined;
  /** Stops listening to the change feed, if there is one. */
  close?(): void;
}

/** Changes a source remembers (channel names): `changedSince` further back says "not known". */
export const CHANGES_KEPT_MAX = 1 << 16;

/** The columns of a ring's views (see `heldView`): the same object while the ring is unchanged. */
const columnsOfView = new WeakMap<HeldBars, BarColumns>();

/** A BarsSource over bars kernel states, looked up by channel. */
export function heldBarsSource(options: {
  channels(): string[];
  state(channel: string): BarsState | undefined;
  volumeSuffix?: string;
  /**
   * See `BarsSource.version`; with it, the symbol list, and the columns of each symbol read in
   * place from its ring, are kept while the version holds: a symbol's bars cost one lookup.
   */
  version?(): number;
  /**
   * A change feed: calls `changed(channel)` after each change to a channel's bars (the host's
   * `onApplied`), and returns the function that stops it. With it the source counts changes as its
   * version and says which symbols changed (`changedSince`): the symbol list is kept until a
   * channel it does not list changes, and columns kept are dropped for the changed symbols only.
   */
  watch?(changed: (channel: string) => void): () => void;
}): BarsSource {
  const suffix = options.volumeSuffix ?? "_vol";
  const scratch = new BarsScratch();
  let lastBar = "", lastUs: number | undefined;
  let markBar = "", markUs: number | undefined;
  const feed = options.watch ? changeFeed(options.watch) : undefined;
  const version = feed ? feed.count : options.version;
  const listing = new SymbolListing({ channels: options.channels, suffix, version, feed });
  const changedSince = (at: number) => listing.changedSince(at);
  const kept = new KeptColumns();
  return {
    symbols() {
      return listing.current()?.symbols ?? listing.list().symbols;
    },
    ...(version ? { version } : {}),
    ...(feed ? { changedSince, close: feed.stop } : {}),
    mark(symbol, bar) {
      const s = options.state(symbol);
      if (bar !== markBar) {
        markBar = bar;
        markUs = barSizeUs(bar);
      }
      const us = markUs;
      if (!s || us === undefined) return -1;
      const j = sizeIndex(s, us);
      if (j < 0) return -1;
      // The volume channel's bars change the volume column: its mark moves the symbol's. Looked
      // up only for a symbol listed with one (a lookup costs about as much as the rest here).
      const vs = listing.current()?.withVolume.has(symbol) === false
        ? undefined
        : options.state(symbol + suffix);
      const vj = vs ? sizeIndex(vs, us) : -1;
      return heldMark(s, j) + (vs && vj >= 0 ? heldMark(vs, vj) : 0);
    },
    bars(symbol, bar) {
      const keep = version ? kept.at(version(), bar, changedSince) : undefined;
      const known = keep?.get(symbol);
      if (known !== undefined) return known;
      const s = options.state(symbol);
      if (bar !== lastBar) {
        lastBar = bar;
        lastUs = barSizeUs(bar);
      }
      const us = lastUs;
      if (!s || us === undefined) return undefined;
      const j = sizeIndex(s, us);
      if (j < 0) return undefined;
      const n = heldCount(s, j);
      const vs = listing.current()?.withVolume.has(symbol) === false
        ? undefined
        : options.state(symbol + suffix);
      const vj = vs ? sizeIndex(vs, us) : -1;
      // The ring's own columns where they lie in one stretch (no copy), else a copy.
      const view = heldView(s, j);
      if (view && !(vs && vj >= 0)) {
        const cols = viewColumns(view);
        // The ring's own arrays stay valid while the version holds (the copies below do not).
        keep?.set(symbol, cols);
        return cols;
      }
      return scratch.columns(s, j, { n, view, ...(vs && vj >= 0 ? { volume: [vs, vj] } : {}) });
    },
  };
}

/** The columns of a ring's view, the same object while the ring is unchanged. */
function viewColumns(view: HeldBars): BarColumns {
  let cols = columnsOfView.get(view);
  if (cols === undefined) {
    const { t, open, high, low, close, count } = view;
    cols = { t, open, high, low, close, volume: count };
    columnsOfView.set(view, cols);
  }
  return cols;
}

/** Columns read in place, by bar size and symbol, kept while the version holds. */
class KeptColumns {
  #kept = new Map<string, Map<string, BarColumns>>();
  #at: number | undefined;

  /**
   * The columns kept of size `bar` at version `now`: those of the symbols changed since the last
   * call (all, when `changedSince` cannot say) are dropped first.
   */
  at(
    now: number,
    bar: string,
    changedSince: (at: number) => readonly string[] | undefined,
  ): Map<string, BarColumns> {
    if (now !== this.#at) {
      const since = this.#at === undefined ? undefined : changedSince(this.#at);
      if (since === undefined) this.#kept.clear();
      else for (const m of this.#kept.values()) for (const sym of since) m.delete(sym);
      this.#at = now;
    }
    let keep = this.#kept.get(bar);
    if (keep === undefined) this.#kept.set(bar, keep = new Map());
    return keep;
  }
}

/** The symbols among the channels, and which of them have a volume channel. */
interface Listing {
  symbols: string[];
  withVolume: Set<string>;
  all: Set<string>;
}

/** Options of `SymbolListing`. */
interface ListingOptions {
  channels(): string[];
  suffix: string;
  version: (() => number) | undefined;
  feed: ChangeFeed | undefined;
}

/** A source's listing of symbols, kept while the version holds (or only channels listed change). */
class SymbolListing {
  #options: ListingOptions;
  #listed: (Listing & { version: number }) | undefined;

  constructor(options: ListingOptions) {
    this.#options = options;
  }

  /** The listing read afresh. */
  list(): Listing {
    const suffix = this.#options.suffix;
    const all = this.#options.channels();
    const set = new Set(all), withVolume = new Set<string>();
    const symbols = all.filter((c) => {
      const volume = c.endsWith(suffix) && set.has(c.slice(0, -suffix.length));
      if (volume) withVolume.add(c.slice(0, -suffix.length));
      return !volume;
    });
    return { symbols, withVolume, all: set };
  }

  /** The listing as of the current version (undefined without a version). */
  current(): Listing | undefined {
    const version = this.#options.version;
    if (version === undefined) return undefined;
    const now = version();
    let listed = this.#listed;
    if (listed !== undefined && listed.version !== now) {
      // Changes to channels listed already leave the listing as it is.
      const all = listed.all, since = this.#options.feed?.since(listed.version);
      if (since !== undefined && since.every((c) => all.has(c))) listed.version = now;
    }
    if (listed?.version !== now) listed = this.#listed = { version: now, ...this.list() };
    return listed;
  }

  /** The symbols changed since change count `at` (a volume channel's change is its symbol's). */
  changedSince(at: number): string[] | undefined {
    const channels = this.#options.feed?.since(at);
    if (channels === undefined) return undefined;
    const suffix = this.#options.suffix;
    const withVolume = this.current()!.withVolume;
    return channels.map((c) => {
      const base = c.endsWith(suffix) ? c.slice(0, -suffix.length) : undefined;
      return base !== undefined && withVolume.has(base) ? base : c;
    });
  }
}

/** A channel's change feed, counted and logged: the change count and the channels changed since. */
interface ChangeFeed {
  /** Changes so far. */
  count(): number;
  /**
   * The channels changed since change count `at`, or undefined when no longer (or never) logged.
   */
  since(at: number): string[] | undefined;
  /** Stops the feed. */
  stop(): void;
}

/** Listens to `watch`, keeping the last CHANGES_KEPT_MAX changes at most. */
function changeFeed(watch: (changed: (channel: string) => void) => () => void): ChangeFeed {
  // The log: `log[i]` is the channel of change `logBase + i`; `changes` counted.
  let changes = 0, logBase = 0, log: string[] = [];
  const stop = watch((channel) => {
    if (log.length >= CHANGES_KEPT_MAX) {
      const drop = log.length >> 1;
      log = log.slice(drop);
      logBase += drop;
    }
    log.push(channel);
    changes++;
  });
  return {
    count: () => changes,
    since: (at) => at < logBase || at > changes ? undefined : log.slice(at - logBase),
    stop,
  };
}

/** Options of `BarsScratch.columns`. */
interface CopyOptions {
  /** Bars held. */
  n: number;
  /** The ring's view, where its bars lie in one stretch. */
  view: HeldBars | undefined;
  /** The volume channel's state and size index, when it has bars of this size. */
  volume?: [BarsState, number];
}

/** The buffers a source copies bars into (a ring that wraps, a merged volume column), reused. */
class BarsScratch {
  #cap = 0;
  #ringCopy: HeldBars = heldBuffers(0);
  #volumeCopy: HeldBars = heldBuffers(0);
  #vol = new Float64Array(0);

  /**
   * The columns of `state`'s bars at size index `j`: the view's (or a copy of the ring's), with the
   * volume channel's sums merged in where `o.volume` is given. Valid until the next call.
   */
  columns(state: BarsState, j: number, o: CopyOptions): BarColumns {
    const { n, view } = o;
    const [vs, vj] = o.volume ?? [undefined, -1];
    this.#grow(Math.max(view ? 0 : n, vs ? Math.max(n, heldCount(vs, vj)) : 0));
    const b = view ?? this.#ringCopy;
    if (!view) readHeld(state, j, this.#ringCopy);
    let volume = b.count.subarray(0, n);
    if (vs) {
      // Merge-join on bar start: the volume channel's sum where it has the bar, else 0.
      const v = this.#volumeCopy;
      const m = readHeld(vs, vj, v);
      volume = this.#vol.subarray(0, n);
      let k = 0;
      for (let i = 0; i < n; i++) {
        const t = b.t[i]!;
        while (k < m && v.t[k]! < t) k++;
        volume[i] = k < m && v.t[k] === t ? v.sum[k]! : 0;
      }
    }
    return {
      t: b.t.subarray(0, n),
      open: b.open.subarray(0, n),
      high: b.high.subarray(0, n),
      low: b.low.subarray(0, n),
      close: b.close.subarray(0, n),
      volume,
    };
  }

  #grow(n: number): void {
    if (n <= this.#cap) return;
    this.#cap = Math.max(n, 64);
    this.#ringCopy = heldBuffers(this.#cap);
    this.#volumeCopy = heldBuffers(this.#cap);
    this.#vol = new Float64Array(this.#cap);
  }
}

function heldBuffers(cap: number): HeldBars {
  const c = () => new Float64Array(cap);
  return { t: c(), open: c(), high: c(), low: c(), close: c(), count: c(), sum: c() };
}

/** A BarsSource over fixed columns by symbol (bars loaded elsewhere: files, tests, benchmarks). */
export function columnsBarsSource(
  bySymbol: ReadonlyMap<string, BarColumns>,
  bar: string,
): BarsSource {
  return {
    symbols: () => [...bySymbol.keys()],
    bars: (symbol, size) => (size === bar ? bySymbol.get(symbol) : undefined),
  };
}
