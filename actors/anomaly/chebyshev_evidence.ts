/**
 * Each sample's evidence as Chebyshev reads it, for measuring an accumulated detector offline
 * (`troupe bench tail --evidence`; docs/methods/paging.md, "Evidence accumulated over a fault"):
 * the squared distance of a value from the kernel's expected value, in units of the σ a finding at
 * that sample would state (_scale.ts). When that σ is the true one, the ratio has mean at most 1
 * under the null, so it is an e-value (Chebyshev's own argument); whether the kernel's σ is honest
 * enough for that is what the bench measures. The kernel is stepped one sample at a time, which
 * changes none of its outputs (framing changes nothing), so that the σ is read from the state as
 * it was before each sample.
 */
import type { AnomalyConfig } from "./config.ts";
import { stepAnomaly } from "./kernel.ts";
import { findingSigma, SIGMA_PER_MAE } from "./_scale.ts";
import * as S from "./_state.ts";

/** Which σ a sample's distance is measured in. */
export type EvidenceSigma = "finding" | "rms";

/** Options of `chebyshevEvidence`. */
export interface ChebyshevEvidenceOptions {
  /**
   * `finding` (default): the σ a finding at the sample would state. `rms`: at least the root mean
   * square of the channel's past errors against its expected values (a plain mean until
   * RMS_SPAN_SAMPLES, then that span), the second moment Chebyshev's bound is stated in, where the
   * finding's σ is made of mean absolute errors.
   */
  sigma?: EvidenceSigma;
}

/** Per sample of a series: its ratio, and what it was made of (NaN where there is none). */
export interface ChebyshevEvidence {
  /** ((x − expected) / σ)², σ on the side x went. */
  ratio: Float64Array;
  /** The kernel's expected value before the sample. */
  expected: Float64Array;
  /** The σ for a value above the expected one, and for one below. */
  sigmaUp: Float64Array;
  sigmaDown: Float64Array;
}

/** The span of the `rms` σ: the long-run departures' (LONG_ALPHA, 1,000 samples). */
export const RMS_SPAN_SAMPLES = 1000;

/**
 * Per sample of `v` (times `tUs`, µs), ((x − expected) / σ)² and its parts; NaN for a sample that
 * is invalid or comes before the warm-up ends (no finding can be made there).
 */
export function chebyshevEvidence(
  series: { tUs: Float64Array; v: Float64Array },
  config: AnomalyConfig,
  options: ChebyshevEvidenceOptions = {},
): ChebyshevEvidence {
  const { tUs, v } = series;
  if (tUs.length !== v.length) {
    throw new RangeError(`chebyshevEvidence: ${tUs.length} times but ${v.length} values`);
  }
  const rms = options.sigma === "rms";
  const st = S.createAnomalyState(config);
  const s = st.s;
  const band = s[S.BAND_SIGMAS]! * SIGMA_PER_MAE, warmup = s[S.WARMUP]!;
  const column = () => new Float64Array(v.length).fill(NaN);
  const out = { ratio: column(), expected: column(), sigmaUp: column(), sigmaDown: column() };
  let meanSquare = 0, squares = 0;
  for (let i = 0; i < v.length; i++) {
    const up = s[S.UP_MEAN]!, down = s[S.DOWN_MEAN]!, quantum = s[S.QUANTUM]!;
    const seen = s[S.SEEN]!, x = v[i]!;
    const frame = {
      channel: "evidence",
      seq0: i,
      t: tUs.subarray(i, i + 1),
      v: v.subarray(i, i + 1),
    };
    const result = stepAnomaly(st, frame);
    if (result.valid !== 1) continue;
    const mu = result.expected[0]!, mae = result.spread[0]! / band;
    const floor = rms && squares > 0 ? Math.sqrt(meanSquare) : 0;
    const sigmaUp = Math.max(findingSigma(mae, up, quantum), floor);
    const sigmaDown = Math.max(findingSigma(mae, down, quantum), floor);
    if (seen > 0) {
      squares++;
      meanSquare += ((x - mu) ** 2 - meanSquare) * Math.max(1 / squares, 1 / RMS_SPAN_SAMPLES);
    }
    const sigma = x >= mu ? sigmaUp : sigmaDown;
    if (seen < warmup || !(sigma > 0)) continue;
    out.ratio[i] = ((x - mu) / sigma) ** 2;
    out.expected[i] = mu;
    out.sigmaUp[i] = sigmaUp;
    out.sigmaDown[i] = sigmaDown;
  }
  return out;
}
