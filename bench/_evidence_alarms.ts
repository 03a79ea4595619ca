/**
 * A CUSUM-type e-detector over per-sample e-values, in bits (J. Shin, A. Ramdas, A. Rinaldo,
 * "E-detectors: a nonparametric framework for sequential change detection", 2022; E. S. Page,
 * "Continuous inspection schemes", Biometrika 41, 1954): M_t = max(M_{t-1}, 1) · e_t, alarmed at
 * M_t >= 2^b and started again; when each e_t has mean at most 1 given the past, the mean run to a
 * false alarm is at least 2^b samples. `troupe bench tail --evidence` measures whether the anomaly
 * kernel's Chebyshev ratios make it so (docs/methods/paging.md).
 */

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
}

/**
 * The indices where the detector alarms at `bits`, started again after each: `ratios` per sample
 * (NaN: no evidence, the sample is passed over).
 */
export function evidenceAlarms(
  ratios: Float64Array,
  bits: number,
  options: EvidenceAlarmOptions,
): number[] {
  const { lambda, allowanceBits } = options;
  if (!(lambda > 0 && lambda <= 1)) {
    throw new RangeError(`evidenceAlarms: lambda must be in (0, 1], got ${lambda}`);
  }
  const alarms: number[] = [];
  let evidence = 0; // log2 M_t
  for (let i = 0; i < ratios.length; i++) {
    const r = ratios[i]!;
    if (r !== r) continue;
    evidence = Math.max(evidence, 0) + Math.log2(1 - lambda + lambda * r) - allowanceBits;
    if (evidence >= bits) {
      alarms.push(i);
      evidence = 0;
    }
  }
  return alarms;
}
