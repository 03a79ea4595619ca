/**
 * The `anomaly` actor: per channel, scores every sample in [0, 1] as it arrives, publishes the
 * scores with the expected value and its prediction band's half-width as a columns frame on
 * `troupe.out.anomaly.<channel>`, and an `anomaly` event per incident when the score crosses the
 * configured threshold, naming the view that scored its sample (see kernel.ts for the detector,
 * _views.ts for the views, machine.ts for the incident rules).
 */
import { ANOMALY_FINDING } from "../../protocol/mod.ts";
import type { ColumnsFrame, SampleFrame } from "../../protocol/mod.ts";
import { type ActorDefinition, anomalyColumnsFrame } from "../../protocol/mod.ts";
import { anomalyHeldBytes } from "../kind/mod.ts";
import { type AnomalyConfig, defaultAnomalyConfig, parseAnomalyConfig } from "./config.ts";
import { anomalyKernel } from "./kernel.ts";
import type { AnomalyResult } from "./_result.ts";
import { VIEW_WIRE } from "./_views.ts";
import { type AnomalyState, describeAnomaly } from "./_state.ts";
import { type AnomalyFrameChange, type AnomalyFrameEvent, anomalyMachine } from "./machine.ts";

export { type AnomalyConfig, defaultAnomalyConfig, parseAnomalyConfig } from "./config.ts";
export { anomalyKernel, stepAnomaly, VALUE_ABS_MAX } from "./kernel.ts";
export {
  type ChebyshevEvidence,
  chebyshevEvidence,
  type ChebyshevEvidenceOptions,
  type EvidenceSigma,
  RMS_SPAN_SAMPLES,
} from "./chebyshev_evidence.ts";
export type { AnomalyChange, AnomalyResult } from "./_result.ts";
export { anomalyCounters, type AnomalyState } from "./_state.ts";
export { VIEW, VIEW_NAMES, VIEW_WIRE, type ViewCode } from "./_views.ts";
export {
  type AnomalyContext,
  type AnomalyEmitted,
  type AnomalyFrameChange,
  type AnomalyFrameEvent,
  anomalyMachine,
  changeBody,
} from "./machine.ts";

/**
 * The machine event of a frame: every incident change of the frame, in order, each with its
 * sample's fields; undefined when no sample of the frame was valid, and where the machine
 * (`machineState`, when given) would take no transition on it: past `warming`, a frame that
 * changed no incident (no guard there passes without a change); in `warming`, with the
 * instance's `config` given, a frame after which it has seen fewer than that configuration's
 * `warmup_samples` (the only guard there asks for them, of the machine's context, which holds
 * that configuration; a live change of it leaves the kernel's own warm-up as it was). Such an
 * event would change nothing, and sending it cost a macrostep and garbage every frame: every
 * frame of a new channel's warm-up, 150 samples by default.
 */
export function anomalyFrameEvent(
  result: AnomalyResult,
  frame: SampleFrame,
  machineState?: unknown,
  config?: AnomalyConfig,
): AnomalyFrameEvent | undefined {
  if (result.valid === 0) return undefined;
  if (machineState === "warming") {
    if (config !== undefined && result.seen < config.warmup_samples) return undefined;
  } else if (result.changes.length === 0 && machineState !== undefined) return undefined;
  const changes: AnomalyFrameChange[] = [];
  for (const c of result.changes) {
    // A change is at a valid sample, whose edges are expected -+ spread bit for bit; an opening's
    // are the band its finding states (its σ made honest for paging: _scale.ts), a restatement's
    // that band about the expected value it held (_restate.ts).
    const { index: i, open, view, restated } = c;
    const expected = restated ? c.expected : result.expected[i]!;
    const spread = open ? c.spread : result.spread[i]!;
    const change: AnomalyFrameChange = {
      open,
      ts: Math.round(frame.t[i]!),
      score: result.score[i]!,
      value: frame.v[i]!,
      expected,
      lower: expected - spread,
      upper: expected + spread,
    };
    const name = VIEW_WIRE[view];
    if (name !== undefined) change.view = name;
    if (restated) change.restated = true;
    changes.push(change);
  }
  return { type: "frame", seen: result.seen, changes };
}

/**
 * The per-sample outputs of a frame: `score`, `expected`, `spread` (the band is `expected -
 * spread` to `expected + spread`), and the `value` scored, so that a consumer of
 * `troupe.out.anomaly.<channel>` (the dashboard) draws the series with its band without
 * subscribing to the feed (the wire: protocol/anomaly_columns.ts).
 */
export function anomalyColumns(
  result: AnomalyResult,
  frame: SampleFrame,
  key: string,
): ColumnsFrame | undefined {
  if (frame.t.length === 0) return undefined;
  return anomalyColumnsFrame({
    channel: key,
    seq0: frame.seq0,
    t: frame.t, // encoded by the host before this call returns: no copy needed
    score: result.score,
    expected: result.expected,
    spread: result.spread,
    value: frame.v,
  });
}

/** The anomaly actor kind. */
export const anomalyActor: ActorDefinition<AnomalyState, AnomalyConfig, AnomalyResult> = {
  kind: "anomaly",
  findings: [ANOMALY_FINDING],
  version: 25,
  defaultConfig: defaultAnomalyConfig,
  parseConfig: parseAnomalyConfig,
  route: (channel) => [channel],
  heldBytes: anomalyHeldBytes,
  kernel: anomalyKernel,
  describeState: describeAnomaly,
  machine: anomalyMachine,
  frameEvent: anomalyFrameEvent,
  columns: anomalyColumns,
};
