/**
 * The incidents of a history answer: the incidents (protocol/incident.ts) that have the channel as
 * a member and whose span (first to last finding) meets the range asked, each as its latest
 * update, so that a range view draws each over its span, however old. On the wire they are one
 * msgpack array of incident bodies, the same map an incident update's envelope carries (one
 * definition of an incident on the wire); this file is the array's encode/decode pair, nested in
 * `protocol/history.ts`'s answer, and the decoder names the item and field that are wrong.
 */
import { type Incident, incidentBody, readIncident } from "./incident.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";

/** Incidents one history answer holds at most (the newest are kept). */
export const HISTORY_INCIDENTS_MAX = 256;

/** The wire value of `incidents`: an array of incident bodies. */
export function historyIncidentsValue(incidents: readonly Incident[]): unknown[] {
  if (incidents.length > HISTORY_INCIDENTS_MAX) {
    throw new RangeError(
      `History response has ${incidents.length} incidents, over ${HISTORY_INCIDENTS_MAX}`,
    );
  }
  return incidents.map(incidentBody);
}

/** Reads `incidents` back, naming the item and the field that are wrong. */
export function historyIncidentsOfValue(raw: unknown): Incident[] {
  if (!Array.isArray(raw) || raw.length > HISTORY_INCIDENTS_MAX) {
    throw new ProtocolError(
      "field",
      `History response field "incidents" must be an array of at most ${HISTORY_INCIDENTS_MAX} ` +
        `incidents, got ${describeValue(raw)}`,
      { field: "incidents", value: raw },
    );
  }
  return raw.map((item, i) => {
    try {
      return readIncident(item);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      const field = `incidents[${i}]${(err.field ?? "").replace(/^body/, "")}`;
      throw new ProtocolError(
        err.reason,
        err.message.replace(/^Incident field "[^"]*"/, `History response field "${field}"`),
        { field, value: err.value },
      );
    }
  });
}
