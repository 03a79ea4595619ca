/**
 * The metrics receiver: a team's Prometheus (remote write) and OpenTelemetry (OTLP/HTTP) metrics
 * made channels of a feed, journaled on the feed stream as batches that hosts split into frames.
 */
export { IngestServer, type IngestServerOptions } from "./ingest_server.ts";
export { ReceiverThread, type ReceiverThreadOptions } from "./receiver_thread.ts";
export {
  checkHistoryUrl,
  INGEST_DEFAULTS,
  type IngestSettings,
  parseIngestSettings,
  readPreset,
} from "./ingest_settings.ts";
export { IngestMetrics } from "./ingest_metrics.ts";
export { type FeedJournal, feedJournal, type FeedJournalOptions } from "./feed_journal.ts";
export { type IncomingSeries, type SampleOutcome, seriesSamples } from "./series_samples.ts";
export { SeriesTable } from "./series_table.ts";
export {
  EXPORTER_SELF_PREFIXES,
  isExporterSelfMetric,
  selectsSeries,
  type SeriesSelection,
} from "./series_selection.ts";
export {
  DEFAULT_SERIES_PRESET,
  NODE_PRESET_METRICS,
  presetLeavesOut,
  SERIES_PRESETS,
  type SeriesPreset,
} from "./node_preset.ts";
export {
  CHANNEL_LABELS_KEPT_MAX,
  type ChannelLabelsBook,
  openChannelLabels,
} from "./channel_labels_book.ts";
export { sourceLabels } from "./source_labels.ts";
export { HISTORY_POINTS_LEAST, HISTORY_POINTS_MAX, SeriesHistory } from "./series_history.ts";
export { type HistoryAllotment, HistoryBudget } from "./history_budget.ts";
export {
  type HistoryRead,
  historyReads,
  historySelector,
  type HistorySeries,
} from "./history_query.ts";
