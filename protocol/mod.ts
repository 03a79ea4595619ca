/**
 * troupe's wire: subjects, the envelope, the msgpack codec, sample frames, validation, and the
 * contracts both sides see: the Bus, the kernel and the actor kind. Pure: nothing here does I/O.
 */
export * from "./protocol_error.ts";
export * from "./subjects.ts";
export * from "./envelope.ts";
export * from "./sample_frame.ts";
export * from "./anomaly_columns.ts";
export * from "./anomaly_columns_reader.ts";
export * from "./history.ts";
export * from "./history_bars.ts";
export * from "./history_incidents.ts";
export type * from "./bus.ts";
export { BusRequestError, type BusRequestErrorOptions } from "./bus.ts";
export type * from "./kernel.ts";
export type * from "./actor_definition.ts";
export * from "./config_error.ts";
export * from "./check_number.ts";
export * from "./option_value.ts";
export { TROUPE_VERSION } from "./version.ts";
export * from "./incident.ts";
export * from "./severity.ts";
export * from "./finding_kind.ts";
export * from "./silence.ts";
export * from "./incident_control.ts";
export * from "./partition_lease.ts";
export * from "./stage_lease.ts";
export * from "./host_presence.ts";
export * from "./settings_report.ts";
export * from "./state_capture.ts";
export * from "./partition_event.ts";
export * from "./bytes_equal.ts";
export * from "./channel_unit.ts";
export * from "./invariant.ts";
export * from "./events/mod.ts";
export * from "./input_record.ts";
export * from "./malformed_message_error.ts";
export * from "./room_message.ts";
export * from "./peer_message.ts";
export * from "./catch_up.ts";
export * from "./stream_message.ts";
export * from "./stream_msg.ts";
export * from "./scan_message.ts";
export * from "./scan_result.ts";
export * from "./scan_results_batch.ts";
export * from "./alertmanager_alert.ts";
export * from "./alert_webhook.ts";
export * from "./alert_delivery.ts";
