/**
 * One severity per kind of finding, on one scale from 1 to 5, the number the dashboard, `troupe
 * watch`, its `--json` and the incidents all show. 1 is worth a glance, 3 is worth a look now, 5 is
 * the strongest the kind can say. Each kind of finding declares its own scale (finding_kind.ts);
 * the scales of the findings troupe's own kinds make are here, because they are the meaning of the
 * `peak_severity` their incidents carry on the wire (incident.ts), read alike by the stage, the
 * dashboard's bundle and the commands (docs/findings.md's table says the same):
 *
 * - anomaly, by its score s in [0, 1]: 1 below 0.6, 2 below 0.7, 3 below 0.8, 4 below 0.9, 5 at 0.9
 *   and above (the score's own threshold, 0.5, is the floor of 1);
 * - collapse, by the shift in spreads d (|Δmean| / spread before + |log2 spread ratio|): 1 below 1,
 *   2 below 2, 3 below 4, 4 below 8, 5 at 8 and above;
 * - coherence, by the standardized shift |z| of the absorption ratio: 1 below 1.5, 2 below 2, 3
 *   below 3, 4 below 4, 5 at 4 and above.
 *
 * The kinds that make them declare them (actors/), as a user's kind declares its own. Because
 * these three are events of troupe's wire (protocol/events/), every process knows them from the
 * start, the dashboard's page and an incident stage run alone included: they are registered here,
 * on `troupe.out.<type>.*`, and a kind declaring the same again changes nothing.
 */
import { decodeAnomalyBody, decodeCoherenceBody, decodeCollapseBody } from "./events/mod.ts";
import {
  type FindingKind,
  findingKindOf,
  findingMeasure,
  isFindingType,
  registerKindFindings,
  severityOnScale,
} from "./finding_kind.ts";

/** The anomaly event's finding: its score. */
export const ANOMALY_FINDING: FindingKind = {
  type: "anomaly",
  measure: "score",
  edges: [0.6, 0.7, 0.8, 0.9],
  unit: "score",
  // A score q claims fewer than one sample in 2^(10q + 5) of the channel's past went as far
  // (docs/methods/anomaly.md, "How a score is scaled": full_score_bits 10, the tail views' 5 free
  // bits), and a score is capped at 1. A finding's band, band_sigmas (3) of its honest σ each
  // side, is read by Chebyshev's bound, uncapped, when it says more (docs/methods/paging.md); the
  // range rule scores 1 outright, so its findings are read by their band alone.
  tail: {
    bits_per_unit: 10,
    free_bits: 5,
    measure_max: 1,
    outright_views: ["range"],
    band_sigmas: 3,
  },
  restatesField: "restated",
  check: decodeAnomalyBody,
};

/** The collapse event's finding: its shift in spreads (the body's `severity`). */
export const COLLAPSE_FINDING: FindingKind = {
  type: "collapse",
  measure: "severity",
  edges: [1, 2, 4, 8],
  unit: "spreads",
  atField: "change_ts",
  // A change point is what changed, not why to wake someone (docs/methods/paging.md).
  context: true,
  check: decodeCollapseBody,
};

/** The coherence event's finding: the absorption ratio's standardized shift, either way. */
export const COHERENCE_FINDING: FindingKind = {
  type: "coherence",
  measure: "shift",
  abs: true,
  edges: [1.5, 2, 3, 4],
  unit: "sd",
  channelField: "group",
  episode: { field: "state", quiet: "normal" },
  context: true,
  check: decodeCoherenceBody,
};

for (const f of [ANOMALY_FINDING, COLLAPSE_FINDING, COHERENCE_FINDING]) {
  registerKindFindings(f.type, [f]);
}

/** A kind of finding that opens incidents: a registered finding type. */
export type IncidentKind = string;

/** Whether `type` (an event's type) is a kind of finding that opens incidents. */
export function isIncidentKind(type: unknown): type is IncidentKind {
  return isFindingType(type);
}

/** The severity, 1 to 5, of a finding of `kind` whose event body is `body` (1 if unregistered). */
export function findingSeverity(kind: IncidentKind | FindingKind, body: unknown): number {
  const spec = typeof kind === "string" ? findingKindOf(kind) : kind;
  return spec === undefined ? 1 : severityOnScale(spec, findingMeasure(spec, body));
}
