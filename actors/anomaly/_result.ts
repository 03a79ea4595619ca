/**
 * What the anomaly kernel's step gives for one frame: per-sample columns (score, expected value,
 * the band's half-width) and the incident changes in sample order. Private to the anomaly folder;
 * kernel.ts re-exports the types.
 */

/**
 * A change of the channel's incident state at one sample: an incident opens at a valid sample
 * scoring at or above the threshold while none is open, and closes at the `clear_samples`-th valid
 * sample in a row scoring below it. Decided per sample, so framing never changes one.
 */
export interface AnomalyChange {
  /** Index of the sample in the frame. */
  index: number;
  /** True when an incident opens at this sample, false when the open one closes. */
  open: boolean;
}

/** No changes: shared by every frame without one (never written to). */
export const NO_CHANGES: readonly AnomalyChange[] = Object.freeze([]);

/** What one frame produces: per-sample columns and the incident changes, in order. */
export interface AnomalyResult {
  /** Per sample: the anomaly score in [0, 1]. */
  score: Float64Array;
  /** Per sample: the value expected from the past. */
  expected: Float64Array;
  /**
   * Per sample: the prediction band's half-width. The band is `expected - spread` to
   * `expected + spread`, bit for bit the edges the kernel computes for a valid sample.
   */
  spread: Float64Array;
  /** Every opening and closing of an incident in this frame, in sample order. */
  changes: readonly AnomalyChange[];
  /** Valid samples in this frame. */
  valid: number;
  /** Samples of this frame skipped as invalid. */
  skipped: number;
  /** Valid samples the instance has seen, this frame included. */
  seen: number;
}
