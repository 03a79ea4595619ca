/**
 * Scans: a scan asks, over a universe of symbols and a bar size, which symbols meet a criteria,
 * ranked. The service (one per host) turns a request into an event-sourced scan (`scan/<scanId>`),
 * hands chunks of symbols to the workers' queue group in priority order, numbers the results and
 * streams them to subscribers; a worker scans the bars its host holds.
 */
export {
  type BarsSource,
  CHANGES_KEPT_MAX,
  columnsBarsSource,
  heldBarsSource,
} from "./bars_source.ts";
export {
  DEFAULT_PRIORITY,
  defaultScanLimits,
  parseScanRequest,
  type ScanLimits,
  ScanRequestError,
} from "./scan_request.ts";
export { type ScanContext, type ScanEvent, scanMachine } from "./scan_machine.ts";
export {
  FIRST_CHUNK_SYMBOLS,
  ScanService,
  type ScanServiceOptions,
  WARM_SLICE_SYMBOLS,
} from "./scan_service.ts";
export type { ScanListener } from "./scan_results.ts";
export { ScanWorker, type ScanWorkerOptions } from "./scan_worker.ts";
export { fileScanJournals, memoryScanJournals, type ScanJournals } from "./scan_journals.ts";
export {
  hostBarsSource,
  REHEARSING,
  type ScanHostOptions,
  scanHostService,
  WARMING,
} from "./scan_host.ts";
export {
  SCAN_BODY_BYTES_MAX,
  SCAN_BODY_READ_MS_MAX,
  type ScanHttp,
  scanHttp,
  type ScanHttpOptions,
} from "./scan_http.ts";
export {
  FOLLOW_REOPENS_MAX,
  type FollowScanOptions,
  followScanResults,
} from "./follow_scan_results.ts";
