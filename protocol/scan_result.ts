/**
 * What the scan API answers, as JSON (actors/scan/scan_http.ts writes it; `troupe scan` and the
 * dashboard's scan panel read it), each with its decoder that checks every field: a malformed
 * answer is refused naming the field and the value, never shown as a blank or a NaN.
 *
 * - started (`POST /scan/stream`): the scan's id and where its results stream;
 * - a result (an SSE `result` event's data, its id the result's `seq`): a matched symbol, numbered;
 * - stats (`GET /scan/stats/{id}`, `POST /scan/stop/{id}`, the SSE `end` event's data): the live
 *   statistics of a scan, final at its end;
 * - a results message (`WS /ws/results/{id}`): a result with `type: "result"`, or
 *   `{ type: "end", stats }`.
 */
import { Fields } from "./_fields.ts";

/** A result: the `seq`-th symbol of the scan to meet its criteria, found in chunk `chunk`. */
export interface ScanResult {
  seq: number;
  symbol: string;
  /** The symbol's rank; null when the scan has no rank or it is not finite. */
  rank: number | null;
  chunk: number;
}

/** Where a scan is. */
export type ScanState = "queued" | "running" | "stopping" | "done" | "stopped" | "failed";

const SCAN_STATES: readonly ScanState[] = [
  "queued",
  "running",
  "stopping",
  "done",
  "stopped",
  "failed",
];

/** Why a scan stopped before every symbol was scanned. */
export type ScanStopReason = "max_signals" | "timeout" | "requested";

const STOP_REASONS: readonly ScanStopReason[] = ["max_signals", "timeout", "requested"];

/** Live statistics of a scan. */
export interface ScanStats {
  scanId: string;
  state: ScanState;
  stop_reason: ScanStopReason | null;
  symbols_total: number;
  symbols_done: number;
  chunks_total: number;
  chunks_done: number;
  signals: number;
  insufficient_history: number;
  unknown_symbols: number;
  elapsed_ms: number;
  first_result_ms: number | null;
  symbols_per_s: number;
  eta_ms: number | null;
  error: string | null;
  /** Partitions of a partitioned cluster not scanned: they did not say their symbols in time. */
  partitions_missing: number[];
}

/** The answer to `POST /scan/stream`. */
export interface ScanStarted {
  scanId: string;
  websocketUrl: string;
  sseUrl: string;
  /** A partitioned cluster's partitions whose symbols are not in the scan; absent when none. */
  partitions_missing?: number[];
}

/** A message of a scan's results WebSocket. */
export type ScanResultsMessage =
  | ({ type: "result" } & ScanResult)
  | { type: "end"; stats: ScanStats };

/** Encodes any of the above as JSON text. */
export function encodeScanAnswer(
  m: ScanResult | ScanStats | ScanStarted | ScanResultsMessage,
): string {
  return JSON.stringify(m);
}

/** Decodes and checks a result. */
export function decodeScanResult(text: string): ScanResult {
  return resultOf(Fields.ofJson(text, "scan result"));
}

/** Decodes and checks a scan's statistics. */
export function decodeScanStats(text: string): ScanStats {
  return statsOf(Fields.ofJson(text, "scan stats"));
}

/** Decodes and checks the answer to `POST /scan/stream`. */
export function decodeScanStarted(text: string): ScanStarted {
  const r = Fields.ofJson(text, "scan started");
  const started: ScanStarted = {
    scanId: r.str("scanId"),
    websocketUrl: r.str("websocketUrl"),
    sseUrl: r.str("sseUrl"),
  };
  if (r.m.partitions_missing !== undefined) {
    started.partitions_missing = r.counts("partitions_missing");
  }
  return started;
}

/** Decodes and checks a message of a scan's results WebSocket. */
export function decodeScanResultsMessage(text: string): ScanResultsMessage {
  const r = Fields.ofJson(text, "scan results message");
  const type = r.oneOf("type", ["result", "end"] as const);
  if (type === "result") return { type, ...resultOf(r) };
  return { type, stats: statsOf(Fields.ofValue(r.m.stats, "scan results message's stats")) };
}

function resultOf(r: Fields): ScanResult {
  return {
    seq: r.count("seq"),
    symbol: r.str("symbol"),
    rank: r.orNull("rank", () => r.num("rank")),
    chunk: r.count("chunk"),
  };
}

function statsOf(r: Fields): ScanStats {
  const ms = (field: string) => r.orNull(field, () => r.num(field));
  return {
    scanId: r.str("scanId"),
    state: r.oneOf("state", SCAN_STATES),
    stop_reason: r.orNull("stop_reason", () => r.oneOf("stop_reason", STOP_REASONS)),
    symbols_total: r.count("symbols_total"),
    symbols_done: r.count("symbols_done"),
    chunks_total: r.count("chunks_total"),
    chunks_done: r.count("chunks_done"),
    signals: r.count("signals"),
    insufficient_history: r.count("insufficient_history"),
    unknown_symbols: r.count("unknown_symbols"),
    elapsed_ms: r.num("elapsed_ms"),
    first_result_ms: ms("first_result_ms"),
    symbols_per_s: r.num("symbols_per_s"),
    eta_ms: ms("eta_ms"),
    error: r.orNull("error", () => r.str("error")),
    partitions_missing: r.counts("partitions_missing"),
  };
}
