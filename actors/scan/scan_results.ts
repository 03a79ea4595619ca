/**
 * What a scan's subscribers receive: its results, each numbered, and its live statistics when it
 * ends (and from `GET /scan/stats/<id>` meanwhile).
 */
import type { ScanContext } from "./scan_machine.ts";

/** A result as subscribers receive it. */
export interface ScanResult {
  seq: number;
  symbol: string;
  rank: number | null;
  chunk: number;
}

/** Live statistics of a scan. */
export interface ScanStats {
  scanId: string;
  state: "queued" | "running" | "stopping" | "done" | "stopped" | "failed";
  stop_reason: ScanContext["stop_reason"];
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

/** What a subscriber is told. */
export interface ScanListener {
  result(r: ScanResult): void;
  /** The scan ended (or was deleted); no more results follow. */
  end(stats: ScanStats): void;
}
