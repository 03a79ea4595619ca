/**
 * The anomaly kernel's calibration: the published score may not claim more than the channel's own
 * recent past supports. A raw score q claims that the sample was q * full_score_bits bits
 * surprising, so that a rise to q or above should come at most once in 2^(q * full_score_bits)
 * samples. The record counts, per score bin (1/64 of a full score), how often this channel's raw
 * score has risen into that bin or above from below (an upcrossing: a flat-line of 500 samples, or
 * a shift that stays beyond the range, rises once, as the one incident it opens does), and the
 * samples it scored, and caps q at the empirical tail probability of such a rise,
 * -log2((rises + 1) / (samples + 2)) bits (one pseudo-count each side: a young channel cannot
 * claim a one-in-a-thousand event before it has seen about a thousand samples).
 *
 * Over the recent past: every count is exponentially weighted with a span of CALIB_SPAN_SAMPLES
 * (8,192: about the month of 5-minute samples over which HTM's anomaly likelihood takes its
 * distribution of raw scores), so a channel that alarmed often long ago and has since settled
 * regains its full scale, and one that turned noisy is capped within a span (a record of the whole
 * past would cap an old habit for ever). Counts are weighted by a scale that
 * grows by 1 / (1 - 1 / CALIB_SPAN_SAMPLES) a sample instead of decaying every bin, so a sample
 * costs O(1) but for the bins a rise crosses; the record is rescaled when the scale passes 2^300.
 * The cap bounds each channel's rate of rises from above; it does not lift a channel that rises
 * less often than its scores claim (tried: see actors/anomaly/README.md). Saved and loaded with
 * the state.
 */
import { log2Fast } from "../math/mod.ts";

/** Score bins of the record: a raw score q falls in floor(q * CALIB_BINS), 1 in the last. */
export const CALIB_BINS = 64;
/** The span of the record's exponential weights, in samples. */
export const CALIB_SPAN_SAMPLES = 8192;
/**
 * Floats of a record: the weighted samples scored, the weighted rises into bins 1 to CALIB_BINS,
 * the last bin, the current weight.
 */
export const CALIB_FLOATS = CALIB_BINS + 3;
const LAST_BIN = CALIB_BINS + 1;
/** The slot of the weight the next sample is counted with (1 in a fresh record). */
export const CALIB_WEIGHT = CALIB_BINS + 2;
const GROWTH = 1 / (1 - 1 / CALIB_SPAN_SAMPLES);
const WEIGHT_MAX = 2 ** 300;

/** A fresh record: nothing scored, weight 1. */
export function createCalibration(): Float64Array {
  const record = new Float64Array(CALIB_FLOATS);
  record[CALIB_WEIGHT] = 1;
  return record;
}

/**
 * The raw score `raw` (in [0, 1]) capped by `record`'s tail probability of a rise that high, in
 * units of `fullBits`; then the sample is recorded (the cap is from the past alone).
 */
export function calibrate(record: Float64Array, raw: number, fullBits: number): number {
  const bin = raw >= 1 ? CALIB_BINS : Math.floor(raw * CALIB_BINS);
  let w = record[CALIB_WEIGHT]!;
  let out = raw;
  if (bin > 0) {
    const cap = -log2Fast((record[bin]! / w + 1) / (record[0]! / w + 2)) / fullBits;
    if (cap < out) out = cap;
  }
  w *= GROWTH;
  record[0] = record[0]! + w;
  for (let j = bin; j > record[LAST_BIN]!; j--) record[j] = record[j]! + w;
  record[LAST_BIN] = bin;
  if (w > WEIGHT_MAX) {
    for (let j = 0; j <= CALIB_BINS; j++) record[j] = record[j]! / w;
    w = 1;
  }
  record[CALIB_WEIGHT] = w;
  return out;
}
