/**
 * The variance of a standard normal clipped to [lo, hi], `E[min(max(z, lo), hi)²]`: the factor by
 * which a variance learnt from deviations bounded at lo and hi sds (coherence's Huber step) falls
 * short of the true one, so that dividing by it makes the estimate consistent for normal noise
 * (Huber's proposal 2). Computed with portable exp (actors/math), the same bits on every runtime.
 */
import { expFast } from "../math/mod.ts";

const INV_SQRT_2PI = 0.3989422804014327;

/** The standard normal density at `z`. */
function density(z: number): number {
  return INV_SQRT_2PI * expFast(-0.5 * z * z);
}

/**
 * The standard normal distribution function at `z` (Abramowitz and Stegun 26.2.17, absolute
 * error below 7.5e-8: ample for a consistency factor).
 */
function cdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  const x = Math.abs(z);
  const t = 1 / (1 + 0.2316419 * x);
  const poly = t *
    (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const upper = density(x) * poly;
  return z >= 0 ? 1 - upper : upper;
}

/** `E[min(max(z, lo), hi)²]` for a standard normal z, lo <= 0 <= hi. */
export function clippedNormalVariance(lo: number, hi: number): number {
  const pl = cdf(lo), ph = cdf(hi);
  const finite = (z: number, x: number) => Number.isFinite(z) ? x : 0;
  const tails = finite(lo, lo * lo * pl) + finite(hi, hi * hi * (1 - ph));
  const edge = (z: number) => finite(z, z * density(z));
  return ph - pl - (edge(hi) - edge(lo)) + tails;
}
