/**
 * A new series' recent past, read from the team's Prometheus-compatible query API
 * (`/api/v1/query_range`, which VictoriaMetrics answers too) for the series' exact label set (a
 * scrape target's series together: history_query.ts), and made feed batches the way live samples
 * are (a counter becomes its per-second rate), each strictly before the series' first live
 * sample. The receiver journals them before the live samples, so the detectors take them as
 * ordinary inputs and a replay reads them as it read the live ones. Reads are bounded: so many at
 * once across requests, one deadline for a request's reads, and the samples read by a budget
 * (history_budget.ts); a read that fails or is late gives its series no history (its detectors
 * warm up on live samples), and says why.
 */
import { setMaxListeners } from "node:events";
import type { FeedBatch } from "../../protocol/mod.ts";
import { HistoryBudget } from "./history_budget.ts";
import {
  historyAnswer,
  HistoryError,
  type HistoryFailure,
  historyReads,
  type HistorySeries,
  quoted,
  type RawPoints,
} from "./history_query.ts";
import { counterRate } from "./series_samples.ts";

/**
 * Points one query_range answers at most: Prometheus's own limit on a range query's points per
 * series (it refuses a query past it).
 */
export const HISTORY_POINTS_MAX = 11_000;
/**
 * The fewest points a series' history is read with when the budget shares out less than its
 * window: the anomaly detector's default warm-up (`warmup_samples`), the past after which a
 * series' first live sample is scored. Fewer would cost the hosts and warm nothing.
 */
export const HISTORY_POINTS_LEAST = 150;
/** Samples in one history batch at most (as a live batch: well under a message's limit). */
const BATCH_SAMPLES_MAX = 20_000;
/**
 * Points one read answers at most where series are read together: what one remote-write request
 * may hand the receiver (`samples_per_request_max`'s default), so an answer is parsed and
 * converted in the time a request's samples are.
 */
const READ_POINTS_MAX = 100_000;

/** Where and how much history is read. */
export interface HistorySettings {
  /** The query API's base URL (the part before `/api/v1/query_range`). */
  url: string;
  /** How far back from a series' first live sample, ms. */
  windowMs: number;
  /** The query's step, ms: a point every step. */
  stepMs: number;
  /** The deadline of a request's reads, ms. */
  timeoutMs: number;
  /** Reads in flight at once, across requests. */
  readsMax: number;
  /** History samples a second the budget fills by, and samples it holds at most. */
  samplesPerS: number;
  burstSamples: number;
}

/** What a request's reads gave. */
export interface HistoryOutcome {
  batches: FeedBatch[];
  /** Samples in the batches. */
  samples: number;
  failures: HistoryFailure[];
  /** Series the budget gave fewer points than the window (`each`), and series it gave none. */
  shortened: number;
  skipped: number;
  /** Points each read series was given (the window's, or the budget's share). */
  each: number;
  /** Queries sent to the query API. */
  queries: number;
}

/** What a request's reads gave when there was nothing to read. */
export function noHistory(): HistoryOutcome {
  return { batches: [], samples: 0, failures: [], shortened: 0, skipped: 0, each: 0, queries: 0 };
}

/** Reads series' history from one query API. */
export class SeriesHistory {
  readonly settings: HistorySettings;
  readonly budget: HistoryBudget;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];

  /** `now` (ms) is the budget's clock. */
  constructor(settings: HistorySettings, now?: () => number) {
    this.settings = settings;
    this.budget = new HistoryBudget(settings.samplesPerS, settings.burstSamples, now);
  }

  /**
   * Reads each of `all` the budget allows (the first), as many of their latest points as it
   * allows, all within the deadline, and makes their points feed batches.
   */
  async read(all: readonly HistorySeries[]): Promise<HistoryOutcome> {
    const whole = Math.floor(this.settings.windowMs / this.settings.stepMs);
    const { each, series: allowed } = this.budget.allot(all.length, whole, HISTORY_POINTS_LEAST);
    const series = all.slice(0, allowed);
    const window = each < whole ? each * this.settings.stepMs : this.settings.windowMs;
    const deadline = AbortSignal.timeout(this.settings.timeoutMs);
    // Every read of the request listens to the one deadline (a fetch and a wait for a slot each):
    // that many listeners is by design, not the leak Node warns of past ten.
    setMaxListeners(2 * series.length + 10, deadline);
    const failures: HistoryFailure[] = [];
    const points = new Map<HistorySeries, RawPoints>();
    const reads = historyReads(series, each + 1, READ_POINTS_MAX);
    const sent = { queries: 0 };
    await Promise.all(reads.map(async (read) => {
      try {
        const got = await this.#readGroup(read.series, read.selector, window, deadline, sent);
        for (const [s, p] of got) points.set(s, p);
      } catch (err) {
        const e = err instanceof HistoryError
          ? err
          : classify(err, deadline, this.settings.timeoutMs);
        for (const s of read.series) {
          failures.push({ channel: s.channel, kind: e.kind, reason: e.message });
        }
      }
    }));
    const out: HistoryOutcome = {
      batches: [],
      samples: 0,
      failures,
      shortened: each < whole ? series.length : 0,
      skipped: all.length - series.length,
      each,
      queries: sent.queries,
    };
    let channels: string[] = [], counts: number[] = [], t: number[] = [], v: number[] = [];
    const cut = () => {
      if (channels.length === 0) return;
      out.batches.push({
        channels,
        n: Uint32Array.from(counts),
        t: Float64Array.from(t),
        v: Float64Array.from(v),
      });
      channels = [], counts = [], t = [], v = [];
    };
    series.forEach((s) => {
      const p = points.get(s);
      if (p === undefined || p.t.length === 0) return;
      if (t.length + p.t.length > BATCH_SAMPLES_MAX) cut();
      channels.push(s.channel);
      counts.push(p.t.length);
      for (let k = 0; k < p.t.length; k++) {
        t.push(p.t[k]! * 1000);
        v.push(p.v[k]!);
      }
      out.samples += p.t.length;
    });
    cut();
    this.budget.settle(each * series.length - out.samples);
    return out;
  }

  /**
   * The points of `series` (one first live time) of the last `windowMs` before it, read by
   * `selector`, each converted; a series the answer does not have is left out. `sent` counts the
   * query once it is sent.
   */
  async #readGroup(
    series: readonly HistorySeries[],
    selector: () => string,
    windowMs: number,
    deadline: AbortSignal,
    sent: { queries: number },
  ): Promise<Map<HistorySeries, RawPoints>> {
    const { stepMs } = this.settings;
    const endMs = series[0]!.firstT - 1;
    const form = new URLSearchParams({
      query: selector(),
      start: String((endMs - windowMs) / 1000),
      end: String(endMs / 1000),
      step: String(stepMs / 1000),
    });
    await this.#slot(deadline);
    let text: string, status: number;
    try {
      sent.queries++;
      const r = await fetch(`${this.settings.url.replace(/\/+$/, "")}/api/v1/query_range`, {
        method: "POST",
        body: form,
        signal: deadline,
      });
      status = r.status;
      text = await r.text();
    } finally {
      this.#release();
    }
    if (status < 200 || status > 299) {
      throw new HistoryError("status", `HTTP ${status}: ${quoted(text)}`);
    }
    const out = historyAnswer(text, series);
    for (const s of series) {
      const raw = out.get(s);
      if (raw !== undefined) out.set(s, convert(raw, s.counter, endMs));
    }
    return out;
  }

  /** Waits for a free read, or throws when the deadline passes first. */
  #slot(deadline: AbortSignal): Promise<void> {
    if (this.#inFlight < this.settings.readsMax) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const go = () => {
        deadline.removeEventListener("abort", late);
        this.#inFlight++;
        resolve();
      };
      const late = () => {
        const at = this.#waiting.indexOf(go);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(
          new HistoryError(
            "timeout",
            `no read free within ${this.settings.timeoutMs} ms (setting history_timeout_ms; ` +
              `${this.settings.readsMax} at once, setting history_reads_max)`,
          ),
        );
      };
      if (deadline.aborted) return late();
      deadline.addEventListener("abort", late, { once: true });
      this.#waiting.push(go);
    });
  }

  #release(): void {
    this.#inFlight--;
    this.#waiting.shift()?.();
  }
}

/** A hold on series whose history a request is reading: released once that request is done. */
export interface HistoryHold {
  done: Promise<void>;
  release(): void;
}

/**
 * The series whose history a request is reading: a later request with samples of one waits until
 * that request is done, so the series' past reaches the feed stream before its later samples.
 */
export class HistoryGate {
  readonly #pending = new Map<string, Promise<void>>();

  /** Holds `channels` until the hold is released. */
  hold(channels: readonly string[]): HistoryHold {
    let resolve = () => {};
    const done = new Promise<void>((r) => (resolve = r));
    for (const c of channels) this.#pending.set(c, done);
    const release = () => {
      for (const c of channels) if (this.#pending.get(c) === done) this.#pending.delete(c);
      resolve();
    };
    return { done, release };
  }

  /** Waits for the holds, other than `own`, on the channels of `batches`. */
  async waitFor(batches: readonly FeedBatch[], own: HistoryHold): Promise<void> {
    if (this.#pending.size === 0) return;
    const waits = new Set<Promise<void>>();
    for (const b of batches) {
      for (const c of b.channels) {
        const p = this.#pending.get(c);
        if (p !== undefined && p !== own.done) waits.add(p);
      }
    }
    await Promise.all(waits);
  }
}

/** The line that says a request's failed reads: the URL, how many and the first reason. */
export function historyFailureLine(url: string, failed: HistoryFailure[], of: number): string {
  const first = failed[0]!;
  return `troupe: cannot read history from ${url}/api/v1/query_range for ${failed.length} of ` +
    `${of} new series (${first.channel}: ${first.reason}); they warm up on their live samples`;
}

/**
 * `raw`'s points up to `endMs` in time order (the last HISTORY_POINTS_MAX), a counter's made its
 * rates between consecutive points (its first point gives none).
 */
function convert(raw: RawPoints, counter: boolean, endMs: number): RawPoints {
  const out: RawPoints = { t: [], v: [] };
  let lastT = NaN, lastV = 0;
  const from = Math.max(0, raw.t.length - HISTORY_POINTS_MAX);
  for (let k = from; k < raw.t.length; k++) {
    const t = raw.t[k]!, v = raw.v[k]!;
    if (!(t <= endMs) || t < 0 || t <= lastT) continue;
    const beforeT = lastT, beforeV = lastV;
    lastT = t;
    lastV = v;
    if (counter && beforeT !== beforeT) continue;
    out.t.push(t);
    out.v.push(counter ? counterRate(beforeV, v, t - beforeT) : v);
  }
  return out;
}

/** A failure that is not the API's answer: the deadline, or the server not reached. */
function classify(err: unknown, deadline: AbortSignal, timeoutMs: number): HistoryError {
  if (deadline.aborted) {
    return new HistoryError(
      "timeout",
      `no answer within ${timeoutMs} ms (setting history_timeout_ms)`,
    );
  }
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const why = e.cause?.code ?? e.cause?.message ?? e.message;
  return new HistoryError("down", `cannot reach it: ${why}`);
}
