/**
 * Asking the alert sender beside the incident stage (run_alerting.ts) where each incident stands
 * with each Alertmanager or webhook it posts to: sent, owed, refused or silenced. What `troupe
 * incidents` shows beside each incident.
 */
import {
  alertDeliverySubject,
  type AlertTargetDelivery,
  type Bus,
  decodeAlertDelivery,
  encodeEnvelope,
} from "../../protocol/mod.ts";

/** Options of askAlertDelivery. */
export interface AskAlertDeliveryOptions {
  /** How long to wait for the sender's answer, ms. */
  timeoutMs: number;
  /** Who asks: the request's `src`. */
  src: string;
  /** The time of the ask, ms since the epoch (its id and `ts`). */
  nowMs: number;
}

/**
 * Each target's incidents and their states; a BusRequestError when no sender answers in time
 * (none runs without alerting configured), a ProtocolError when its answer cannot be read.
 */
export async function askAlertDelivery(
  bus: Bus,
  options: AskAlertDeliveryOptions,
): Promise<AlertTargetDelivery[]> {
  const { nowMs } = options;
  const ask = encodeEnvelope({
    id: `alerts-${nowMs.toString(36)}`,
    type: "status",
    src: options.src,
    ts: nowMs * 1000,
    body: null,
  });
  const answer = await bus.request(alertDeliverySubject(), ask, { timeout: options.timeoutMs });
  return decodeAlertDelivery(answer.data);
}
