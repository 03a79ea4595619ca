/**
 * One severity per kind of finding, on one scale from 1 to 5, the number the dashboard, `troupe
 * watch`, its `--json` and the incidents all show. 1 is worth a glance, 3 is worth a look now, 5 is
 * the strongest the kind can say. Per kind (docs/findings.md's table says the same):
 *
 * - anomaly, by its score s in [0, 1]: 1 below 0.6, 2 below 0.7, 3 below 0.8, 4 below 0.9, 5 at 0.9
 *   and above (the score's own threshold, 0.5, is the floor of 1);
 * - collapse, by the shift in spreads d (|Δmean| / spread before + |log2 spread ratio|): 1 below 1,
 *   2 below 2, 3 below 4, 4 below 8, 5 at 8 and above;
 * - coherence, by the standardized shift |z| of the absorption ratio: 1 below 1.5, 2 below 2,
 *   3 below 3, 4 below 4, 5 at 4 and above.
 *
 * It lives in protocol/ because it is the meaning of the `peak_severity` an incident carries on
 * the wire (incident.ts): the stage, the dashboard's bundle and the commands read it alike.
 */

/** The kinds of finding that open incidents. */
export const INCIDENT_KINDS = ["anomaly", "collapse", "coherence"] as const;

/** A kind of finding that opens incidents. */
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** Whether `type` (an event's type) is a kind of finding that opens incidents. */
export function isIncidentKind(type: unknown): type is IncidentKind {
  return INCIDENT_KINDS.includes(type as IncidentKind);
}

/** Per kind, the lower edges of severities 2, 3, 4 and 5 on the kind's own measure. */
export const SEVERITY_EDGES: Readonly<Record<IncidentKind, readonly number[]>> = {
  anomaly: [0.6, 0.7, 0.8, 0.9],
  collapse: [1, 2, 4, 8],
  coherence: [1.5, 2, 3, 4],
};

/** What each kind's severity is measured on, in words. */
export const SEVERITY_MEASURE: Readonly<Record<IncidentKind, string>> = {
  anomaly: "score",
  collapse: "spreads",
  coherence: "sd",
};

/** The severity, 1 to 5, of `measure` on `kind`'s scale (a NaN measure is 1). */
export function severityOf(kind: IncidentKind, measure: number): number {
  const edges = SEVERITY_EDGES[kind];
  let s = 1;
  for (const edge of edges) if (measure >= edge) s++;
  return s;
}

/**
 * The fields of an event body (protocol/events/) a severity is measured on: the anomaly's
 * `score`, the collapse's `severity` (its shift in spreads), the coherence's `shift`.
 */
export interface SeverityFields {
  score?: number;
  severity?: number;
  shift?: number;
}

/**
 * The measure a finding's body is scored on: the anomaly score, collapse shift, coherence |shift|.
 */
export function measureOf(kind: IncidentKind, body: SeverityFields): number {
  const n = (x: unknown) => typeof x === "number" ? x : NaN;
  switch (kind) {
    case "anomaly":
      return n(body.score);
    case "collapse":
      return n(body.severity);
    case "coherence":
      return Math.abs(n(body.shift));
  }
}

/** The severity, 1 to 5, of a finding of `kind` whose event body is `body`. */
export function findingSeverity(kind: IncidentKind, body: SeverityFields): number {
  return severityOf(kind, measureOf(kind, body));
}
