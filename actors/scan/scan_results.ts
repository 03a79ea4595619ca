/**
 * What a scan's subscribers are told: its results, each numbered, and its statistics when it ends
 * (the wire types, ScanResult and ScanStats, are protocol/scan_result.ts's).
 */
import type { ScanResult, ScanStats } from "../../protocol/mod.ts";

/** What a subscriber is told. */
export interface ScanListener {
  result(r: ScanResult): void;
  /** The scan ended (or was deleted); no more results follow. */
  end(stats: ScanStats): void;
}
