/**
 * troupe's wire: subjects, the envelope, the msgpack codec, sample frames, validation, and the
 * contracts both sides see: the Bus, the kernel and the actor kind. Pure: nothing here does I/O.
 */
export * from "./protocol_error.ts";
export * from "./subjects.ts";
export { isSubjectPattern, patternsOverlap } from "./subject_pattern.ts";
export * from "./envelope.ts";
export * from "./sample_frame.ts";
export * from "./columns_frame.ts";
export { float64Bytes, float64Column, LITTLE_ENDIAN } from "./float64_column.ts";
export {
  borrowFloat64s,
  readWords,
  readWordsInto,
  type Words,
  writeWords,
} from "./little_endian_words.ts";
export { readSavedCounts, writeSavedCounts } from "./saved_counts.ts";
export { allocBytes, reusingBytes } from "./_alloc_bytes.ts";
export { utf8Length } from "./_frame_codec.ts";
export { writeUtf8 } from "./utf8_write.ts";
export { keptCopy, keptUtf8 } from "./_kept_bytes.ts";
export { freezeEncoded, valuePieces } from "./_value_writer.ts";
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
export * from "./tick_notice.ts";
export * from "./step_overrun.ts";
export * from "./progress_mark.ts";
export * from "./settings_report.ts";
export * from "./state_capture.ts";
export * from "./input_id_fingerprint.ts";
export * from "./output_id.ts";
export * from "./partition_event.ts";
export * from "./bytes_equal.ts";
export * from "./http_credentials.ts";
export * from "./channel_unit.ts";
export * from "./invariant.ts";
export * from "./events/mod.ts";
export * from "./input_record.ts";
export * from "./attempt_record.ts";
export * from "./malformed_message_error.ts";
export * from "./room_message.ts";
export * from "./peer_message.ts";
export * from "./catch_up.ts";
export * from "./stream_message.ts";
export * from "./stream_msg.ts";
export * from "./stream_batch.ts";
export * from "./scan_message.ts";
export * from "./scan_result.ts";
export * from "./scan_results_batch.ts";
export * from "./feed_batch.ts";
export * from "./warmup_input.ts";
export * from "./alertmanager_alert.ts";
export * from "./alert_webhook.ts";
export * from "./alert_delivery.ts";
