/**
 * Operating a host: its HTTP port (/healthz, /metrics, the ops routes), its Prometheus metrics,
 * metrics scraped from text, a process's channel series, refusing upgrades, and the errors a host
 * stops with.
 */
export {
  closeServer,
  type HostHttpOptions,
  type HttpExtension,
  type HttpHost,
  serveHostHttp,
  serverPort,
} from "./host_http.ts";
export { describeError, errorCode, HostFatalError, isFatalIoError } from "./fatal_error.ts";
export {
  type ChannelFigures,
  HostMetrics,
  KindTally,
  PROCESSING_BUCKETS,
  registerChannelMetrics,
} from "./host_metrics.ts";
export { CHANNEL_SERIES, takeChannelSeries, type TakenChannelSeries } from "./channel_series.ts";
export { answerOps, OPS_PATHS, type OpsEndpoints } from "./ops_routes.ts";
export {
  scrapedCounter,
  scrapedGauge,
  scrapedLabelled,
  type ScrapedLabelledMetric,
  type ScrapedMetric,
} from "./scraped_metrics.ts";
export { refuse, truncate } from "./upgrade_refusal.ts";
