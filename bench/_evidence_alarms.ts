/**
 * A CUSUM-type e-detector over per-sample e-values, in bits (J. Shin, A. Ramdas, A. Rinaldo,
 * "E-detectors: a nonparametric framework for sequential change detection", 2022; E. S. Page,
 * "Continuous inspection schemes", Biometrika 41, 1954): M_t = max(M_{t-1}, 1) · e_t, alarmed at
 * M_t >= 2^b and started again; when each e_t has mean at most 1 given the past, the mean run to a
 * false alarm is at least 2^b samples. `troupe bench tail --evidence` and `troupe bench evidence`
 * measure whether the anomaly kernel's Chebyshev ratios make it so (docs/methods/paging.md).
 */
import type { ChebyshevEvidence } from "../actors/anomaly/mod.ts";

/** How a sample's ratio becomes its e-value. */
export interface EvidenceAlarmOptions {
  /**
   * The bet: e_t = 1 − λ + λ · ratio, λ in (0, 1]. Below 1 a quiet sample costs at most
   * log2(1 / (1 − λ)) bits, and a far one states about log2 λ less than its ratio.
   */
  lambda: number;
  /**
   * Page's reference value, in bits: each sample's e-value divided by 2^allowance, which keeps it
   * an e-value (its mean only shrinks) and lets only samples past the allowance accumulate.
   */
  allowanceBits: number;
  /**
   * Measure against the expected value and σ of the sample where the evidence last stood at
   * nothing, held while it grows (Page's in-control reference), instead of each sample's own.
   */
  holdReference?: boolean;
  /** When given (as long as the series): each sample's evidence in bits, before a restart. */
  trace?: Float64Array;
}

/**
 * The indices where the detector alarms at `bits`, started again after each, over the samples
 * `v` and their `evidence` (a NaN ratio: no evidence, the sample is passed over).
 */
export function evidenceAlarms(
  v: Float64Array,
  evidence: ChebyshevEvidence,
  bits: number,
  options: EvidenceAlarmOptions,
): number[] {
  const { lambda, allowanceBits, trace } = options;
  if (!(lambda > 0 && lambda <= 1)) {
    throw new RangeError(`evidenceAlarms: lambda must be in (0, 1], got ${lambda}`);
  }
  const hold = options.holdReference === true;
  const { ratio, expected, sigmaUp, sigmaDown } = evidence;
  const alarms: number[] = [];
  let sum = 0; // log2 M_t
  let mu = NaN, up = NaN, down = NaN; // the held reference
  for (let i = 0; i < ratio.length; i++) {
    let r = ratio[i]!;
    if (r !== r) continue;
    if (hold) {
      if (sum <= 0) mu = expected[i]!, up = sigmaUp[i]!, down = sigmaDown[i]!;
      const x = v[i]!;
      r = ((x - mu) / (x >= mu ? up : down)) ** 2;
    }
    sum = Math.max(sum, 0) + Math.log2(1 - lambda + lambda * r) - allowanceBits;
    if (trace !== undefined) trace[i] = sum;
    if (sum >= bits) {
      alarms.push(i);
      sum = 0;
    }
  }
  return alarms;
}
