/**
 * History for the page: the past of a channel's samples in buckets (M4 lines, bars), the findings
 * and incidents logged from the bus, the seed of incidents a server starts with, and the HTTP
 * services that answer for them. The JetStream-backed source is a room of its own
 * (`feed_stream/`), loaded only when a server has NATS.
 */
export { BusFeedHistory } from "./bus_feed_history.ts";
export type { HistorySource } from "./feed_stream/mod.ts";
export { FindingLog } from "./finding_log.ts";
export { HISTORY_PATH, HistoryService } from "./history_service.ts";
export { INCIDENT_LIST_PATH, IncidentListService } from "./incident_list_service.ts";
export { IncidentLog } from "./incident_log.ts";
export { IncidentSeed } from "./incident_seed.ts";
