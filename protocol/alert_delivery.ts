/**
 * What the alert sender answers on `troupe.req.alerts.status` (`troupe incidents` asks): per
 * target (an Alertmanager or a webhook), per incident it owes or has sent, where delivery stands:
 * `sent` (the target holds the incident's latest state), `owed` (not yet, being retried),
 * `refused` (the target refused that state with a 4xx: logged and counted, sent again only when the
 * incident changes) or `silenced` (troupe's silences keep it from being sent).
 * `encodeAlertDelivery`/`decodeAlertDelivery` are the pair.
 */
import {
  decodeEnvelope,
  type DecodeLimits,
  encodeEnvelope,
  type EnvelopeInit,
  requireMap,
} from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { reqSubject } from "./subjects.ts";

/** The envelope type of the answer. */
export const ALERT_DELIVERY_TYPE = "alert_delivery";
/** Where an incident's latest state stands with one target. */
export const ALERT_DELIVERY_STATES = ["sent", "owed", "refused", "silenced"] as const;
/** One of ALERT_DELIVERY_STATES. */
export type AlertDeliveryState = (typeof ALERT_DELIVERY_STATES)[number];
/** Targets one answer lists, at most. */
export const ALERT_TARGETS_MAX = 16;
/** Incidents listed per target, at most. */
export const ALERT_DELIVERY_INCIDENTS_MAX = 4096;

/** One target's deliveries. */
export interface AlertTargetDelivery {
  /** The target's URL without credentials. */
  target: string;
  kind: "alertmanager" | "webhook";
  /** Incident id to where its latest state stands. */
  incidents: Record<string, AlertDeliveryState>;
}

/** `troupe.req.alerts.status`: ask the alert sender where delivery stands. */
export function alertDeliverySubject(): string {
  return reqSubject("alerts", "status");
}

/** Encodes the sender's answer. */
export function encodeAlertDelivery(
  meta: Omit<EnvelopeInit, "body" | "type">,
  targets: readonly AlertTargetDelivery[],
): Uint8Array {
  return encodeEnvelope({
    ...meta,
    type: ALERT_DELIVERY_TYPE,
    body: {
      targets: targets.slice(0, ALERT_TARGETS_MAX).map((t) => ({
        target: t.target,
        kind: t.kind,
        incidents: Object.fromEntries(
          Object.entries(t.incidents).slice(0, ALERT_DELIVERY_INCIDENTS_MAX),
        ),
      })),
    },
  });
}

/** Decodes and checks the answer; a ProtocolError names the field and value. */
export function decodeAlertDelivery(
  bytes: Uint8Array,
  limits: DecodeLimits = {},
): AlertTargetDelivery[] {
  const envelope = decodeEnvelope(bytes, limits);
  if (envelope.type !== ALERT_DELIVERY_TYPE) {
    throw bad("type", envelope.type, `must be "${ALERT_DELIVERY_TYPE}"`);
  }
  const body = requireMap(envelope.body, "Alert delivery answer: the body");
  const raw = body.targets;
  if (!Array.isArray(raw) || raw.length > ALERT_TARGETS_MAX) {
    throw bad("body.targets", raw, `must be an array of at most ${ALERT_TARGETS_MAX}`);
  }
  return raw.map((x, i) => {
    const where = `body.targets[${i}]`;
    const t = requireMap(x, `Alert delivery answer: ${where}`);
    if (typeof t.target !== "string" || t.target === "") {
      throw bad(`${where}.target`, t.target, "must be a non-empty string");
    }
    if (t.kind !== "alertmanager" && t.kind !== "webhook") {
      throw bad(`${where}.kind`, t.kind, `must be "alertmanager" or "webhook"`);
    }
    const inc = requireMap(t.incidents, `Alert delivery answer: ${where}.incidents`);
    const entries = Object.entries(inc);
    if (entries.length > ALERT_DELIVERY_INCIDENTS_MAX) {
      throw bad(
        `${where}.incidents`,
        entries.length,
        `must hold at most ${ALERT_DELIVERY_INCIDENTS_MAX}`,
      );
    }
    const incidents: Record<string, AlertDeliveryState> = {};
    for (const [id, s] of entries) {
      if (!ALERT_DELIVERY_STATES.includes(s as AlertDeliveryState)) {
        throw bad(
          `${where}.incidents.${id}`,
          s,
          `must be one of ${ALERT_DELIVERY_STATES.join(", ")}`,
        );
      }
      incidents[id] = s as AlertDeliveryState;
    }
    return { target: t.target, kind: t.kind, incidents };
  });
}

function bad(field: string, value: unknown, rule: string): ProtocolError {
  return new ProtocolError(
    value === undefined ? "field" : "value",
    `Alert delivery field "${field}" ${rule}, got ${describeValue(value)}`,
    { field, value },
  );
}
