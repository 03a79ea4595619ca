/**
 * The event bodies: what the actors publish on `troupe.out.<kind>.<key>` and the system events a
 * host publishes (actor notices, dead letters), one file per kind, each with its typed body, the
 * event its machine emits (fields in wire order), an encoder and a decoder that checks every field.
 * Wire fields are snake_case, units last (`delay_ms`, `rate_per_s`): see docs/wire.md.
 */
export * from "./anomaly.ts";
export * from "./collapse.ts";
export * from "./coherence.ts";
export * from "./bar.ts";
export * from "./stats.ts";
export * from "./actor_notice.ts";
export * from "./dead_letter.ts";
export * from "./control_answer.ts";
export * from "./actor_event.ts";
export * from "./current_event_bytes.ts";
