/**
 * The runtime's operator surface on its own, `/healthz` and `/metrics` and the metrics read when
 * scraped (scraped_metrics.ts), for a process that hosts no actors (the collab server): importing
 * it leaves the host, xstate and NATS unloaded, as `storage/mod.ts` does for the journal.
 */
export { answerOps, OPS_PATHS, type OpsEndpoints } from "../ops_routes.ts";
export {
  scrapedCounter,
  scrapedGauge,
  scrapedLabelled,
  type ScrapedLabelledMetric,
  type ScrapedMetric,
} from "../scraped_metrics.ts";
export { refuse, truncate } from "../upgrade_refusal.ts";
