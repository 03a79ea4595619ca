/**
 * The wire of Prometheus and OpenTelemetry metrics as troupe receives them: snappy, remote
 * write's WriteRequest, OTLP's metrics request and its answer, label matchers, the stale
 * marker, the channel name of a series and its source labels (the bucket the alert sender reads
 * them from).
 */
export * from "./snappy.ts";
export * from "./remote_write.ts";
export * from "./stale_marker.ts";
export * from "./label_matchers.ts";
export * from "./series_channel.ts";
export * from "./otlp_metrics.ts";
export * from "./otlp_response.ts";
export * from "./channel_labels.ts";
