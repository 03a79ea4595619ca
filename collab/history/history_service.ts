/**
 * `GET /history` on the collab server: "channel C from t0 to t1, at most N points", answered with
 * the channel's samples in the range from the feed stream, downsampled per bucket (M4: first,
 * min, max and last, so no spike is lost), its bars in the range (bar_buckets.ts, at most one a
 * bucket, for the range view's candle strip), and the channel's findings and incidents in the
 * range (the latest update of each incident with the channel as a member). The token is
 * the stream gateway's (any session, any role: reading history writes nothing). The request and
 * the answer are the wire types of `protocol/history.ts`; the answer is msgpack.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import {
  encodeHistoryResponse,
  HISTORY_INCIDENTS_MAX,
  HISTORY_LIMITS,
  type HistoryRequest,
  historyRequestOfQuery,
  type HistoryResponse,
  ProtocolError,
} from "../../protocol/mod.ts";
import type { FindingLog } from "./finding_log.ts";
import type { IncidentLog } from "./incident_log.ts";
import type { HistorySource } from "./feed_stream/mod.ts";
import { M4Buckets } from "./m4_buckets.ts";
import { BarBuckets } from "./bar_buckets.ts";
import { type Keyring, TokenError, verifyToken } from "../session/mod.ts";
import {
  type HistoryCacheStats,
  type HistorySourceStats,
  registerHistoryMetrics,
} from "./history_metrics.ts";

/** The path the service answers. */
export const HISTORY_PATH = "/history";

/** Options of a HistoryService. */
export interface HistoryServiceOptions {
  /** Where the samples come from; one that says from when it holds a channel's samples whole
   *  (`since_us`, bus_feed_history.ts) has it said in each answer (`samples_since_us`). */
  source: HistorySource & {
    since_us?(channel: string): number;
    /** What a source held in memory within a bound holds (its metrics, history_metrics.ts). */
    stats?(): HistorySourceStats;
    /** How a cache of the feed stream answered and what it holds (history_cache.ts). */
    cacheStats?(): HistoryCacheStats;
  };
  findings: FindingLog;
  /** The incidents kept; without one, an answer lists none (`incidents_since_us` null). */
  incidents?: IncidentLog | undefined;
  keyring: Keyring;
  /** Reads at once; more are answered 503 (each read is a consumer on the feed stream): 16. */
  reads_max?: number;
  /** Milliseconds since the epoch (token expiry). */
  now?(): number;
}

/** Answers history requests. */
export class HistoryService {
  readonly reads_max: number;
  #options: HistoryServiceOptions;
  #reading = 0;
  /** Requests answered (`troupe_history_queries_total`). */
  answered = 0;

  constructor(options: HistoryServiceOptions) {
    this.#options = options;
    this.reads_max = options.reads_max ?? 16;
  }

  /** Adds its metrics (`troupe_history_*`, history_metrics.ts) to `registry` (the server's). */
  registerMetrics(registry: Registry): void {
    const source = this.#options.source;
    registerHistoryMetrics(registry, {
      answered: () => this.answered,
      source: source.stats && (() => source.stats!()),
      cache: source.cacheStats && (() => source.cacheStats!()),
    });
  }

  /** The answer to one request. */
  async answer(request: HistoryRequest): Promise<HistoryResponse> {
    const m4 = new M4Buckets({
      t0: request.t0_us,
      t1: request.t1_us,
      points_max: request.points_max,
    });
    const bars = new BarBuckets({ t0: request.t0_us, t1: request.t1_us, bars_max: m4.buckets });
    await this.#options.source.read(request, (t, v) => (m4.add(t, v), bars.add(t, v)));
    const points = m4.points();
    const { findings, incidents } = this.#options;
    this.answered++;
    return {
      channel: request.channel,
      t0_us: request.t0_us,
      t1_us: request.t1_us,
      bucket_us: points.bucket_us,
      samples: points.samples,
      samples_since_us: this.#options.source.since_us?.(request.channel) ?? null,
      t: points.t,
      v: points.v,
      bars: bars.bars(),
      findings: findings.range(
        request.channel,
        request.t0_us,
        request.t1_us,
        HISTORY_LIMITS.findings_max,
      ),
      findings_since_us: findings.since_us,
      incidents: incidents?.range(
        request.channel,
        request.t0_us,
        request.t1_us,
        HISTORY_INCIDENTS_MAX,
      ) ?? [],
      incidents_since_us: incidents?.since_us ?? null,
    };
  }

  /**
   * The encoded answer to one request, within the bound of reads at once (the WebSocket form,
   * `{op: "history"}` on /stream, and `GET /history` share it); throws saying why not.
   */
  async encoded(request: HistoryRequest): Promise<Uint8Array> {
    if (this.#reading >= this.reads_max) throw new Error(this.#busy());
    this.#reading++;
    try {
      return encodeHistoryResponse(await this.answer(request));
    } catch (err) {
      throw new Error(`History of ${request.channel}: ${(err as Error).message}`, { cause: err });
    } finally {
      this.#reading--;
    }
  }

  #busy(): string {
    return `${this.#reading} history reads are running, the most at once`;
  }

  /** Answers `GET /history?token=T&channel=C&t0_us=..&t1_us=..&points_max=N`. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET") {
      return plain(res, 405, `Method ${req.method} not allowed on ${HISTORY_PATH}: use GET`);
    }
    const url = new URL(req.url ?? "/", "http://collab");
    try {
      await verifyToken(this.#options.keyring, url.searchParams.get("token"), {
        session: null,
        nowMs: (this.#options.now ?? Date.now)(),
      });
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      return plain(res, 401, err.message);
    }
    let request: HistoryRequest;
    try {
      request = historyRequestOfQuery(url.searchParams);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return plain(res, 400, err.message);
    }
    if (this.#reading >= this.reads_max) return plain(res, 503, this.#busy());
    let bytes: Uint8Array;
    try {
      bytes = await this.encoded(request);
    } catch (err) {
      return plain(res, 502, (err as Error).message);
    }
    res.writeHead(200, {
      "content-type": "application/msgpack",
      "content-length": String(bytes.byteLength),
      "cache-control": "no-store",
    });
    res.end(bytes);
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text + "\n");
}
