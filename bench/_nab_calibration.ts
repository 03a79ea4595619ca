/**
 * Whether a detector's scores mean the same on every file of a NAB corpus (`troupe bench nab
 * --calibration`): per file, the share of its scored rows outside the labelled windows whose score
 * reaches a threshold, against the share the threshold promises; and the spread of the per-file
 * best thresholds (each file's own optimum), which a calibrated score keeps narrow, so that one
 * threshold serves every file.
 */
import {
  type NabFileInput,
  type NabProfile,
  optimizeThreshold,
  ROW_OUTSIDE,
  sweepFile,
} from "./_nab_scorer.ts";

/** One file's false alarms at a threshold. */
export interface NabCalibrationRow {
  name: string;
  /** Rows after the probationary period and outside every window. */
  outside: number;
  /** Of those, rows scoring at or above the threshold. */
  above: number;
  /** above / outside (0 for a file with no such row). */
  share: number;
  /** The file's own best threshold (standard profile); null for a file without windows. */
  best: number | null;
}

/** The calibration of a scored corpus at one threshold. */
export interface NabCalibration {
  threshold: number;
  rows: NabCalibrationRow[];
  /** Quartiles of the per-file best thresholds (files with windows): min, q1, median, q3, max. */
  spread: [number, number, number, number, number];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Each file's false-alarm share at `threshold` and its own best threshold under `profile`. */
export function nabCalibration(
  inputs: readonly NabFileInput[],
  profile: NabProfile,
  threshold: number,
): NabCalibration {
  const rows: NabCalibrationRow[] = [];
  for (const input of inputs) {
    const sweep = sweepFile(input, profile);
    let outside = 0, above = 0;
    for (let i = 0; i < sweep.windowOf.length; i++) {
      if (sweep.windowOf[i] !== ROW_OUTSIDE) continue;
      outside++;
      if (input.scores[i]! >= threshold) above++;
    }
    const best = sweep.windowCount > 0 ? optimizeThreshold([sweep]).threshold : null;
    rows.push({ name: input.name, outside, above, share: outside > 0 ? above / outside : 0, best });
  }
  const bests = rows.flatMap((r) => (r.best === null ? [] : [r.best])).sort((a, b) => a - b);
  const spread = [0, 0.25, 0.5, 0.75, 1].map((q) => quantile(bests, q)) as NabCalibration["spread"];
  return { threshold, rows, spread };
}
