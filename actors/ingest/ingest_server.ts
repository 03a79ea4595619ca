/**
 * The metrics receiver's HTTP server: Prometheus remote write 1.0 (`POST /api/v1/write`, a
 * snappy-compressed protobuf WriteRequest), beside `/metrics` and `/healthz`. A request is
 * answered 2xx only once its samples are journaled on the feed stream (one message per batch of
 * up to 20,000 samples, never one per sample; each request awaits its own acknowledgements, so
 * many are in flight at once); 503 when they could not be (the sender retries, and the retry is
 * stored once); 400 (413 for a body over the limit) for data it will never take, naming what was
 * wrong, after the request's good samples are journaled (OTLP: 200 with OTLP's partial success,
 * saying how many data points were not kept and why); 415 for a body in an encoding it does not
 * read; 401 for missing or wrong credentials, which `/metrics` asks for too (its labels name the
 * series sent); `/healthz` stays open. With a history URL, a new series' recent past is read and
 * journaled before its first live samples (series_history.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  type Bus,
  encodeFeedBatch,
  encodeIncidentControl,
  type FeedBatch,
  feedBatchSubject,
  incidentStaleSubject,
  ProtocolError,
  refuseAuthorization,
  STALE_CHANNELS_MAX,
  warmupId,
  wwwAuthenticate,
} from "../../protocol/mod.ts";
import {
  decodeLabels,
  decodeOtlpMetrics,
  decodeOtlpMetricsJson,
  decodeWriteRequest,
  encodeOtlpMetricsResponse,
  type Label,
  type OtlpPoints,
  snappyClaimedLength,
  snappyDecompress,
  type WriteRequestColumns,
} from "../../protocol/prometheus/mod.ts";
import { type FeedJournal, feedJournal } from "./feed_journal.ts";
import type { IngestSettings } from "./ingest_settings.ts";
import { IngestMetrics } from "./ingest_metrics.ts";
import {
  type IncomingSeries,
  type SampleOutcome,
  type SampleTimes,
  sampleTimes,
  seriesSamples,
} from "./series_samples.ts";
import { recordKey, SeriesTable } from "./series_table.ts";
import { ScoreWatch } from "./score_watch.ts";
import { otlpSeries } from "./otlp_series.ts";
import { otlpPartialSuccess } from "./otlp_partial_success.ts";
import { contentEncoding } from "./content_encoding.ts";
import { gunzipSync } from "node:zlib";
import type { ChannelLabelsBook } from "./channel_labels_book.ts";
import { sourceLabels } from "./source_labels.ts";
import { nativeHistogramRefusal } from "./native_histograms.ts";
import { bodyHash } from "./_body_hash.ts";
import { BudgetCutLog } from "./history_budget.ts";
import {
  historyFailureLine,
  HistoryGate,
  type HistoryOutcome,
  noHistory,
  SeriesHistory,
} from "./series_history.ts";

/** Channels whose labels a failed write left owed, at most (past it the oldest are given up). */
const LABELS_PENDING_MAX = 10_000;
/** The longest decompressed body whose buffer is kept for the next request. */
const INFLATED_KEPT_MAX = 4 << 20;
/** Label writes in flight at once (a first request may bring thousands of new channels). */
const LABELS_IN_FLIGHT_MAX = 256;

/** Options of an IngestServer. */
export interface IngestServerOptions {
  bus: Bus;
  /** Whether the bus has the feed stream (JetStream) to acknowledge what is journaled. */
  durable: boolean;
  /** A name for the batches' source. */
  src?: string;
  /** Where a new channel's source labels are written, for its alerts (none: not kept). */
  labels?: ChannelLabelsBook;
  /** The receiver's clock, ms since the epoch (samples too far ahead of it are refused). */
  now?: (() => number) | undefined;
  /** Where a line for the operator goes (a failed history read); default stderr. */
  log?: ((line: string) => void) | undefined;
}

/** An answer: status and text. */
interface Answer {
  status: number;
  text: string;
  /** An OTLP success: its ExportMetricsServiceResponse, and whether in JSON. */
  otlp?: { body: Uint8Array; json: boolean };
}

/** The metrics receiver. */
export class IngestServer {
  readonly settings: IngestSettings;
  readonly metrics = new IngestMetrics();
  readonly table: SeriesTable;
  readonly #journal: FeedJournal;
  readonly #src: string;
  /** Where the batches go: the feed's batch subject. */
  readonly #subject: string;
  readonly #bus: Bus;
  readonly #scores: ScoreWatch;
  readonly #labels: ChannelLabelsBook | undefined;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  /** Where new series' history is read (none: no history_url). */
  readonly #history: SeriesHistory | undefined;
  /** The series whose history a request is reading, which later requests' samples wait for. */
  readonly #gate = new HistoryGate();
  /** What the history budget cut since its last line (said at most once a minute). */
  readonly #budgetCut = new BudgetCutLog();
  /** Channels' labels a failed write left owed (tried again with a later request). */
  readonly #labelsOwed = new Map<string, Label[]>();
  #labelsRetrying = false;
  /** Where a remote-write body is decompressed (grown to the longest, up to INFLATED_KEPT_MAX). */
  #inflated = new Uint8Array(0);
  #server: Server | undefined;

  constructor(settings: IngestSettings, options: IngestServerOptions) {
    this.settings = settings;
    this.table = new SeriesTable(settings, settings.channelsMax);
    this.#journal = feedJournal(options.bus, {
      durable: options.durable,
      ackTimeoutMs: settings.ackTimeoutMs,
    });
    this.#src = options.src ?? "remote-write";
    this.#subject = feedBatchSubject(settings.feed);
    this.#bus = options.bus;
    this.#scores = new ScoreWatch(options.bus, (c) => this.table.labelsOf(c));
    this.#labels = options.labels;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? ((line) => console.error(line));
    this.#history = settings.historyUrl === undefined ? undefined : new SeriesHistory({
      url: settings.historyUrl,
      windowMs: settings.historyWindowMs,
      stepMs: settings.historyStepMs,
      timeoutMs: settings.historyTimeoutMs,
      readsMax: settings.historyReadsMax,
      samplesPerS: settings.historySamplesPerS,
      burstSamples: settings.historyBurstSamples,
    }, this.#now);
    const budget = this.#history?.budget;
    if (budget !== undefined) this.metrics.historyBudgetLevel = () => budget.level();
  }

  /** The port it listens on (once started). */
  get port(): number {
    const a = this.#server?.address();
    return typeof a === "object" && a ? a.port : 0;
  }

  /**
   * Listens on the settings' host and port, having counted the channels admitted before (the
   * labels book is their record), so its limit and the names it gives agree with them.
   */
  start(): Promise<void> {
    for (const [channel, labels] of this.#labels?.entries() ?? []) {
      this.table.reserve(channel, labels);
    }
    const server = createServer((req, res) => {
      this.#serve(req, res).catch((err) => {
        if (!res.headersSent) answer(res, { status: 500, text: String((err as Error).message) });
        else res.end();
      });
    });
    // Senders keep their connections (Prometheus's shards each hold one): longer than a busy
    // moment of this process, so an idle connection is not closed under a request being sent.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 70_000;
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", (err: Error & { code?: string }) => {
        const why = err.code === "EADDRINUSE"
          ? "the port is in use by another process"
          : err.message;
        reject(
          new Error(
            `Cannot receive metrics on ${this.settings.host}:${this.settings.port}: ${why}`,
            { cause: err },
          ),
        );
      });
      server.listen(this.settings.port, this.settings.host, () => resolve());
    });
  }

  /** Stops listening; requests being answered get `graceMs`. */
  stop(graceMs = 1000): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#scores.stop();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      const cut = setTimeout(() => server.closeAllConnections?.(), graceMs);
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      server.closeIdleConnections?.();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/metrics" && req.method === "GET") {
      const refused = this.#authorize(req);
      if (refused !== undefined) return this.#refuse(res, refused);
      this.metrics.channels.set(this.table.channels);
      this.#scores.refresh(this.metrics);
      res.writeHead(200, { "content-type": this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return;
    }
    if (path === "/healthz" && req.method === "GET") {
      return answer(res, { status: 200, text: "ok" });
    }
    const api = path === "/api/v1/write" ? "remote_write" : path === "/v1/metrics" ? "otlp" : "";
    if (api === "") {
      return answer(res, {
        status: 404,
        text: `Not found: ${path}; try POST /api/v1/write or POST /v1/metrics`,
      });
    }
    const done = (a: Answer) => {
      this.metrics.requests.inc({ api, code: String(a.status) });
      answer(res, a);
    };
    if (req.method !== "POST") {
      req.resume();
      return done({ status: 405, text: `${req.method} is not allowed on ${path}: use POST` });
    }
    const auth = this.#authorize(req);
    if (auth !== undefined) {
      req.resume();
      this.metrics.unauthorized.inc({ api });
      this.metrics.requests.inc({ api, code: "401" });
      return this.#refuse(res, auth);
    }
    const encoding = contentEncoding(req.headers, api);
    if (encoding.refused !== undefined) {
      req.resume();
      return done({ status: 415, text: encoding.refused });
    }
    const body = await readBody(req, this.settings.bodyBytesMax);
    if (typeof body === "string") return done({ status: 413, text: body });
    if (api === "remote_write") return done(await this.#write(body));
    done(await this.#otlp(body, req.headers));
  }

  /** Takes an OTLP/HTTP metrics body (protobuf or JSON, gzip or not). */
  async #otlp(body: Uint8Array, headers: IncomingMessage["headers"]): Promise<Answer> {
    let points: OtlpPoints;
    const limits = {
      samplesMax: this.settings.samplesPerRequestMax,
      labelsMax: this.settings.labelsPerSeriesMax,
      labelBytesMax: this.settings.labelBytesMax,
    };
    try {
      let raw = body;
      if (contentEncoding(headers, "otlp").gzip) {
        try {
          raw = new Uint8Array(gunzipSync(body, { maxOutputLength: this.settings.bodyBytesMax }));
        } catch (err) {
          throw new ProtocolError(
            "decode",
            `Cannot gunzip the body (at most ${this.settings.bodyBytesMax} bytes, setting ` +
              `body_bytes_max): ${(err as Error).message}`,
            { field: "body" },
          );
        }
      }
      const json = (headers["content-type"] ?? "").startsWith("application/json");
      points = json
        ? decodeOtlpMetricsJson(new TextDecoder().decode(raw), limits)
        : decodeOtlpMetrics(raw, limits);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return { status: 400, text: `Bad request: ${err.message}` };
    }
    const outcome = seriesSamples(otlpSeries(points), this.table, this.#times());
    const failed = await this.#journalOutcome("otlp", outcome, body);
    if (failed) return failed;
    // OTLP answers 200 with an ExportMetricsServiceResponse: empty when everything was kept,
    // else its partial success, the data points not kept and why (a 4xx would have the sender
    // drop the request, and it was kept in part).
    const json = (headers["content-type"] ?? "").startsWith("application/json");
    const partial = otlpPartialSuccess(outcome, points.ignored);
    if (partial === undefined) {
      return {
        status: 200,
        text: "",
        otlp: { body: encodeOtlpMetricsResponse(undefined, json), json },
      };
    }
    this.metrics.partialSuccess.inc({ api: "otlp" });
    this.metrics.rejectedPoints.inc({ api: "otlp" }, partial.rejectedDataPoints);
    return {
      status: 200,
      text: partial.errorMessage,
      otlp: { body: encodeOtlpMetricsResponse(partial, json), json },
    };
  }

  /** The bounds of a request's sample times, by the receiver's clock now. */
  #times(): SampleTimes {
    return sampleTimes(this.#now(), this.settings.futureMsMax);
  }

  /** Why `req`'s credentials are refused, or undefined when they are good (or none are asked). */
  #authorize(req: IncomingMessage): string | undefined {
    return refuseAuthorization(req.headers.authorization, this.settings);
  }

  /** Answers 401 with `text`, saying in `WWW-Authenticate` which credential is taken. */
  #refuse(res: ServerResponse, text: string): void {
    res.writeHead(401, {
      "content-type": "text/plain; charset=utf-8",
      "www-authenticate": wwwAuthenticate(this.settings, "troupe metrics receiver"),
    });
    res.end(`${text}\n`);
  }

  /** Takes a remote-write body. */
  async #write(body: Uint8Array): Promise<Answer> {
    const api = "remote_write";
    let cols: WriteRequestColumns;
    try {
      const bytesMax = this.settings.bodyBytesMax;
      const n = snappyClaimedLength(body);
      if (n > this.#inflated.length && n <= INFLATED_KEPT_MAX && n <= bytesMax) {
        this.#inflated = new Uint8Array(
          Math.min(INFLATED_KEPT_MAX, Math.max(n, 2 * this.#inflated.length)),
        );
      }
      // Decoded, matched and copied out before anything awaits: the buffer is free again after.
      // On this thread: a decoding thread costs a copy of the body, a transfer of the columns and
      // their bytes read cold on another core, more than it takes off this one where the cores
      // are few (docs/performance.md, Figures behind the code).
      const raw = snappyDecompress(body, { bytesMax, what: "body", into: this.#inflated });
      cols = decodeWriteRequest(raw, {
        seriesMax: this.settings.seriesPerRequestMax,
        samplesMax: this.settings.samplesPerRequestMax,
        labelsMax: this.settings.labelsPerSeriesMax,
        labelBytesMax: this.settings.labelBytesMax,
      });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return { status: 400, text: `Bad request: ${err.message}` };
    }
    for (const m of cols.metadata) this.table.noteType(m.family, m.type);
    const incoming = remoteWriteSeries(cols);
    const outcome = seriesSamples(incoming, this.table, this.#times());
    // Named now, from this request's labels: once the journaling below awaits, the buffer they
    // are read from holds the next request's.
    const histograms = nativeHistogramRefusal(cols, incoming);
    const failed = await this.#journalOutcome(api, outcome, body);
    if (failed) return failed;
    if (histograms !== undefined) {
      this.metrics.samples.inc({ api, outcome: "native_histogram" }, cols.histograms);
    }
    const reasons = histograms === undefined ? outcome.reasons : [histograms, ...outcome.reasons];
    const count = outcome.reasonCount + (histograms === undefined ? 0 : 1);
    if (count === 0) return { status: 204, text: "" };
    const more = count - reasons.length;
    return {
      status: 400,
      text: `Bad request: ${count} refused (${outcome.journaled} samples of the ` +
        `request journaled): ${reasons.join("; ")}${more > 0 ? `; and ${more} more` : ""}`,
    };
  }

  /**
   * Journals a request's batches and counts what became of its samples; the 503 answer when its
   * batches could not be journaled, else undefined.
   */
  async #journalOutcome(
    api: string,
    outcome: SampleOutcome,
    body: Uint8Array,
  ): Promise<Answer | undefined> {
    const id = `${api}-${bodyHash(body)}`;
    // Found before the labels are written: a channel the record knew (a restart) has its past.
    const unseen = this.#unseen(outcome.newChannels);
    const hold = this.#gate.hold(unseen.map((c) => c.channel));
    try {
      const history = this.#readHistory(unseen);
      // A new channel's labels are stored before its samples are journaled, so they are there
      // before any finding on it can become an alert.
      await this.#writeLabels(outcome.newChannels);
      const past = await history;
      await this.#gate.waitFor(outcome.batches, hold);
      // The history first, on its own: its samples are before the live ones on every channel.
      // Marked warm-up: the detectors learn from the past, and publish no finding about it.
      await this.#journalBatches(past.batches, warmupId(`${id}-history`));
      await this.#journalBatches(outcome.batches, id);
      if (past.samples > 0) this.metrics.historySamples.inc(past.samples);
    } catch (err) {
      outcome.rollback();
      this.metrics.journalFailures.inc({ api });
      return {
        status: 503,
        text: `Cannot journal the request's ${outcome.journaled} samples on the feed stream ` +
          `(send it again): ${(err as Error).message}`,
      };
    } finally {
      hold.release();
    }
    this.#sayStale(id, outcome.stale);
    const m = this.metrics;
    m.samples.inc({ api, outcome: "journaled" }, outcome.journaled);
    m.samples.inc({ api, outcome: "unmatched" }, outcome.unmatched);
    m.samples.inc({ api, outcome: "refused" }, outcome.refused);
    m.samples.inc({ api, outcome: "out_of_order" }, outcome.outOfOrder);
    if (outcome.channelLimit > 0) m.channelsRefused.inc(outcome.channelLimit);
    return undefined;
  }

  /** Journals `batches`, message ids `<id>-<b>`, all at once. */
  async #journalBatches(batches: FeedBatch[], id: string): Promise<void> {
    await Promise.all(batches.map((batch, b) => {
      const msgId = `${id}-${b}`;
      let ts = 0;
      for (let k = 0; k < batch.t.length; k++) if (batch.t[k]! > ts) ts = batch.t[k]!;
      // Its channel names are the series table's, made by seriesChannel: valid by making.
      const bytes = encodeFeedBatch(batch, { id: msgId, src: this.#src, ts: Math.round(ts) }, {
        namesChecked: true,
      });
      return this.#journal(this.#subject, bytes, msgId);
    }));
  }

  /** The new channels whose history is read: those new to the record (none without history_url). */
  #unseen(fresh: SampleOutcome["newChannels"]): SampleOutcome["newChannels"] {
    const book = this.#labels;
    if (this.#history === undefined) return [];
    return book === undefined ? fresh : fresh.filter((c) => book.get(c.channel) === undefined);
  }

  /** The history of `unseen`: a failed read is counted and said in one line per request. */
  async #readHistory(unseen: SampleOutcome["newChannels"]): Promise<HistoryOutcome> {
    const history = this.#history;
    if (history === undefined || unseen.length === 0) {
      return noHistory();
    }
    const past = await history.read(unseen);
    if (past.queries > 0) this.metrics.historyQueries.inc(past.queries);
    if (past.shortened > 0) {
      this.metrics.historyBudget.inc({ outcome: "shortened" }, past.shortened);
    }
    if (past.skipped > 0) this.metrics.historyBudget.inc({ outcome: "none" }, past.skipped);
    const line = this.#budgetCut.add(past, history.settings, this.#now());
    if (line !== undefined) this.#log(line);
    if (past.failures.length > 0) {
      for (const f of past.failures) this.metrics.historyFailures.inc({ reason: f.kind });
      this.#log(historyFailureLine(history.settings.url, past.failures, unseen.length));
    }
    return past;
  }

  /**
   * Tells the incident stage which channels went stale, once their markers are journaled: one
   * control message per marker time (its event time), so the stage ends their open incidents in
   * order among the findings, and journals (or records) it as its input, so a replay ends them too.
   */
  #sayStale(id: string, stale: SampleOutcome["stale"]): void {
    if (stale.length === 0) return;
    const byTime = new Map<number, string[]>();
    for (const { channel, t } of stale) {
      const list = byTime.get(t) ?? [];
      list.push(channel);
      byTime.set(t, list);
    }
    let k = 0;
    for (const [t, channels] of byTime) {
      for (let i = 0; i < channels.length; i += STALE_CHANNELS_MAX) {
        const data = encodeIncidentControl(
          { id: `${id}-stale-${k++}`, src: this.#src, ts: Math.round(t * 1000) },
          {
            type: "stale",
            session: this.#src,
            channels: channels.slice(i, i + STALE_CHANNELS_MAX),
          },
        );
        this.#bus.publish(incidentStaleSubject(), data);
      }
    }
  }

  /**
   * Writes the new channels' source labels (a request admits a channel once, so each request
   * writes only its own), then retries in the background, one retry at a time, those a failed
   * write left owed.
   */
  async #writeLabels(fresh: SampleOutcome["newChannels"]): Promise<void> {
    const book = this.#labels;
    if (!book) return;
    // A channel of the record (its series claimed again after a restart) has its labels there.
    const unwritten = fresh.filter((c) => {
      const known = book.get(c.channel);
      return known === undefined || recordKey(known) !== recordKey(c.labels);
    });
    if (unwritten.length > 0) {
      await this.#putLabels(book, unwritten.map((c) => [c.channel, sourceLabels(c.labels)]));
    }
    if (this.#labelsOwed.size === 0 || this.#labelsRetrying) return;
    this.#labelsRetrying = true;
    const owed = [...this.#labelsOwed];
    this.#labelsOwed.clear();
    void this.#putLabels(book, owed).finally(() => (this.#labelsRetrying = false));
  }

  /** Stores `labels`, LABELS_IN_FLIGHT_MAX at once; a failed write is counted and owed. */
  async #putLabels(book: ChannelLabelsBook, labels: Array<[string, Label[]]>): Promise<void> {
    for (let i = 0; i < labels.length; i += LABELS_IN_FLIGHT_MAX) {
      await Promise.all(
        labels.slice(i, i + LABELS_IN_FLIGHT_MAX).map(async ([channel, l]) => {
          try {
            await book.put(channel, l);
          } catch {
            this.metrics.labelFailures.inc();
            this.#labelsOwed.set(channel, l);
            if (this.#labelsOwed.size > LABELS_PENDING_MAX) { // the oldest owed given up
              this.#labelsOwed.delete(this.#labelsOwed.keys().next().value!);
            }
          }
        }),
      );
    }
  }
}

/** A remote-write request's series as the conversion reads them. */
function remoteWriteSeries(cols: WriteRequestColumns): IncomingSeries {
  return {
    count: cols.series,
    keyBytes: cols.labelBytes,
    keyFrom: cols.labelsFrom,
    keyTo: cols.labelsTo,
    labels: (i) =>
      decodeLabels(cols.labelBytes, cols.labelsFrom[i]!, cols.labelsTo[i]!, `timeseries[${i}]`),
    refused: (i) => cols.refused[i],
    where: (i) => `timeseries[${i}]`,
    from: cols.samplesFrom,
    t: cols.t,
    v: cols.v,
  };
}

/** Reads a request's body, or the refusal's text when it is over `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | string> {
  const over = (n: number | string) =>
    `Request body is ${n} bytes, over the limit of ${max} (setting body_bytes_max)`;
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > max) {
    req.resume();
    return over(declared);
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    n += chunk.length;
    if (n > max) {
      req.resume();
      return over(`more than ${max}`);
    }
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function answer(res: ServerResponse, a: Answer): void {
  if (a.otlp) {
    const type = a.otlp.json ? "application/json" : "application/x-protobuf";
    res.writeHead(200, { "content-type": type });
    res.end(a.otlp.body);
    return;
  }
  if (a.status === 204) {
    res.writeHead(204);
    res.end();
    return;
  }
  res.writeHead(a.status, { "content-type": "text/plain; charset=utf-8" });
  res.end(a.text.endsWith("\n") ? a.text : `${a.text}\n`);
}
