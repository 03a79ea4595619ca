/**
 * The anomaly kernel's calibration: the published score may not claim more than the channel's own
 * past supports. A record holds, since the warm-up, the samples scored and, per score bin (1/64 of
 * a full score), how many times the raw score rose into that bin or above from below: an
 * upcrossing, so a flat-line of 500 samples or a level shift that stays beyond the range rises
 * once, as the one incident it opens does. A raw score q, which would claim q * full_score_bits
 * bits, is capped at the tail probability of such a rise on this channel,
 * -log2((rises + 1) / (samples + 2)) bits, one pseudo-count each side. A score of q then means both
 * that the model found the sample q * full_score_bits bits surprising and that the channel's past
 * rose that high at most about once in 2^(q * full_score_bits) samples: a channel whose raw scores
 * jump often (bursty counts, a trend that keeps setting records) learns that they do, and a young
 * channel cannot claim a one-in-a-thousand event before a thousand samples (the cap reaches a full
 * score of 10 bits at 1,022 samples with no rise). The record is of the whole past since the
 * warm-up (no span to choose), costs O(1) a sample but for the bins a rise crosses, and is saved and
 * loaded with the state.
 */
import { log2Fast } from "../math/mod.ts";

/** Score bins of the record: a raw score q falls in floor(q * CALIB_BINS), 1 in the last. */
export const CALIB_BINS = 64;
/** Floats of a record: the samples scored, the rises into bins 1 to CALIB_BINS, the last bin. */
export const CALIB_FLOATS = CALIB_BINS + 2;
const LAST_BIN = CALIB_BINS + 1;

/**
 * The raw score `raw` (in [0, 1]) capped by `record`'s tail probability of a rise that high, in
 * units of `fullBits`; then the sample is recorded (the cap is from the past alone).
 */
export function calibrate(record: Float64Array, raw: number, fullBits: number): number {
  const bin = raw >= 1 ? CALIB_BINS : Math.floor(raw * CALIB_BINS);
  let out = raw;
  if (bin > 0) {
    const cap = -log2Fast((record[bin]! + 1) / (record[0]! + 2)) / fullBits;
    if (cap < out) out = cap;
  }
  record[0] = record[0]! + 1;
  for (let j = bin; j > record[LAST_BIN]!; j--) record[j] = record[j]! + 1;
  record[LAST_BIN] = bin;
  return out;
}
