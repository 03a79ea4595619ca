/**
 * `troupe bench pages`'s scoring, pure: from the pages Alertmanager delivered (each alert's first
 * delivery to the pager route), the faults injected and the run's span, the figures an on-call
 * engineer judges troupe by. A page belongs to a fault when it arrives between the fault's start
 * and its end plus the grace; every other page is a page in the quiet, counted per node-hour of
 * quiet (the run's span less each fault and its grace).
 */
import { percentile } from "./_bench.ts";

/** One page as the webhook got it: the first delivery of a firing alert routed as a page. */
export interface DeliveredPage {
  /** Alertmanager's fingerprint of the alert (its labels): one page however often re-sent. */
  fingerprint: string;
  /** When the webhook first got it, ms since the epoch. */
  receivedMs: number;
  labels: Readonly<Record<string, string>>;
}

/** A fault the bench injected, ms since the epoch. */
export interface FaultWindow {
  name: string;
  startMs: number;
  endMs: number;
  /**
   * When its load was whole (the memory balloon full), if later than its start: the fault's
   * window begins with its load, since a filling balloon already moves the node.
   */
  wholeMs?: number;
}

/** What the scoring needs besides the pages and faults. */
export interface PageScoreOptions {
  /** When troupe began taking samples, and when the run ended (ms since the epoch). */
  liveStartMs: number;
  liveEndMs: number;
  /** After a fault ends, how long its pages still count as its own (ms). */
  graceMs: number;
  /** Nodes watched (node exporters). */
  nodes: number;
  /** Findings of every kind in the live span, paged or not. */
  findings: number;
}

/** A fault's outcome: its first page and how long it took, or none. */
export interface FaultOutcome {
  name: string;
  /** Fault start to its first page, s; null: not paged within its window. */
  delayS: number | null;
  /** Its load whole to its first page, s (0 when the page came before); null: not paged. */
  delayAfterWholeS: number | null;
  /** The pages that arrived within its window. */
  pages: DeliveredPage[];
}

/** The figures of a run. */
export interface PageScore {
  /** Pages outside every fault's window. */
  quietPages: DeliveredPage[];
  /** The live span less each fault and its grace, hours. */
  quietHours: number;
  pagesPerNodeHour: number;
  faults: FaultOutcome[];
  faultsPaged: number;
  /** Over the faults paged; NaN when none was. */
  delayS50: number;
  delayMaxS: number;
  /** The largest `delayAfterWholeS` over the faults paged; NaN when none was. */
  delayAfterWholeMaxS: number;
  /** Share of all pages carrying both `instance` and `job`; NaN without pages. */
  withInstanceShare: number;
  findingsPerNodeHour: number;
}

/** Scores a run. The pages may come in any order; each fingerprint counts once. */
export function scorePages(
  delivered: readonly DeliveredPage[],
  faults: readonly FaultWindow[],
  options: PageScoreOptions,
): PageScore {
  const pages = firstDeliveries(delivered);
  const windowOf = (f: FaultWindow) => ({ from: f.startMs, to: f.endMs + options.graceMs });
  const outcomes: FaultOutcome[] = faults.map((f) => {
    const w = windowOf(f);
    const mine = pages.filter((p) => p.receivedMs >= w.from && p.receivedMs <= w.to);
    const first = mine[0]?.receivedMs;
    return {
      name: f.name,
      delayS: first === undefined ? null : (first - f.startMs) / 1000,
      delayAfterWholeS: first === undefined
        ? null
        : Math.max(0, first - Math.max(f.startMs, f.wholeMs ?? f.startMs)) / 1000,
      pages: mine,
    };
  });
  const quietPages = pages.filter((p) =>
    faults.every((f) => {
      const w = windowOf(f);
      return p.receivedMs < w.from || p.receivedMs > w.to;
    })
  );
  const liveMs = Math.max(0, options.liveEndMs - options.liveStartMs);
  const faultMs = mergedLength(
    faults.map(windowOf).map((w) => ({
      from: Math.max(w.from, options.liveStartMs),
      to: Math.min(w.to, options.liveEndMs),
    })),
  );
  const quietHours = Math.max(0, liveMs - faultMs) / 3_600_000;
  const liveNodeHours = (liveMs / 3_600_000) * options.nodes;
  const delays = outcomes.flatMap((o) => o.delayS === null ? [] : [o.delayS]).sort((a, b) => a - b);
  const afterWhole = outcomes.flatMap((o) => o.delayAfterWholeS ?? []);
  const labelled = pages.filter((p) => p.labels.instance && p.labels.job).length;
  return {
    quietPages,
    quietHours,
    pagesPerNodeHour: quietHours === 0 ? NaN : quietPages.length / (quietHours * options.nodes),
    faults: outcomes,
    faultsPaged: delays.length,
    delayS50: percentile(delays, 50),
    delayMaxS: delays.length === 0 ? NaN : delays[delays.length - 1]!,
    delayAfterWholeMaxS: afterWhole.length === 0 ? NaN : Math.max(...afterWhole),
    withInstanceShare: pages.length === 0 ? NaN : labelled / pages.length,
    findingsPerNodeHour: liveNodeHours === 0 ? NaN : options.findings / liveNodeHours,
  };
}

/** Each fingerprint's earliest delivery, in time order. */
function firstDeliveries(delivered: readonly DeliveredPage[]): DeliveredPage[] {
  const first = new Map<string, DeliveredPage>();
  for (const p of delivered) {
    const seen = first.get(p.fingerprint);
    if (seen === undefined || p.receivedMs < seen.receivedMs) first.set(p.fingerprint, p);
  }
  return [...first.values()].sort((a, b) => a.receivedMs - b.receivedMs);
}

/** The total length of intervals that may overlap (ms); empty ones count nothing. */
function mergedLength(spans: { from: number; to: number }[]): number {
  const sorted = spans.filter((s) => s.to > s.from).sort((a, b) => a.from - b.from);
  let total = 0, from = -Infinity, to = -Infinity;
  for (const s of sorted) {
    if (s.from > to) {
      if (to > from) total += to - from;
      from = s.from;
      to = s.to;
    } else {
      to = Math.max(to, s.to);
    }
  }
  if (to > from) total += to - from;
  return total;
}
