/**
 * Asking the cluster's incident stage what it holds (its open incidents and its recently resolved
 * ones), on `troupe.req.incidents.list`: what `troupe incidents` lists. The stage answers it
 * (incident_stage.ts) wherever it runs.
 */
import {
  type Bus,
  decodeIncidentList,
  encodeEnvelope,
  type Incident,
  incidentListSubject,
} from "../../protocol/mod.ts";

/** Options of askIncidentList. */
export interface AskIncidentListOptions {
  /** How long to wait for the stage's answer, ms. */
  timeoutMs: number;
  /** Who asks: the request's `src`. */
  src: string;
  /** The time of the ask, ms since the epoch (its id and `ts`). */
  nowMs: number;
}

/**
 * The incidents the stage holds; a BusRequestError when none answers in time (`noResponders`
 * when nothing subscribes), a ProtocolError when its answer cannot be read.
 */
export async function askIncidentList(
  bus: Bus,
  options: AskIncidentListOptions,
): Promise<Incident[]> {
  const { nowMs } = options;
  const ask = encodeEnvelope({
    id: `incidents-${nowMs.toString(36)}`,
    type: "list",
    src: options.src,
    ts: nowMs * 1000,
    body: null,
  });
  const answer = await bus.request(incidentListSubject(), ask, { timeout: options.timeoutMs });
  return decodeIncidentList(answer.data);
}
