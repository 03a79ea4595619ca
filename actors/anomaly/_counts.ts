/**
 * The anomaly kernel's count reference: how improbable a value is for a Poisson count at a given
 * rate. A count's spread follows its level (errors at 20 a minute move by 4 or 5 between samples,
 * at 0.5 by one), so a value merely new to a channel's bins may be one a count at its level draws
 * every few hundred samples. With the portable log (actors/math): every runtime, the same bits.
 */
import { log2Fast, logFast } from "../math/mod.ts";

const LN2 = 0.6931471805599453;
const HALF_LOG_2PI = 0.9189385332046728; // log(2 pi) / 2
/** Below this the log-factorial is summed exactly; from it on, Stirling's series. */
const EXACT_MAX = 16;
/** log(k!) for k below EXACT_MAX, summed in order. */
const LOG_FACTORIAL = new Float64Array(EXACT_MAX);
for (let k = 2; k < EXACT_MAX; k++) LOG_FACTORIAL[k] = LOG_FACTORIAL[k - 1]! + logFast(k);

/** Whether `x` reads as a count: a non-negative integer. */
export function isCount(x: number): boolean {
  return x >= 0 && Math.floor(x) === x;
}

/** log(k!) for a non-negative integer k: exact sums below EXACT_MAX, Stirling's series above. */
function logFactorial(k: number): number {
  if (k < EXACT_MAX) return LOG_FACTORIAL[k]!;
  const inv = 1 / k;
  return k * logFast(k) - k + HALF_LOG_2PI + 0.5 * logFast(k) + inv / 12 - (inv * inv * inv) / 360;
}

/**
 * -log2 P(X = k) for X ~ Poisson(`rate`) and `k` a count: 0 at k = 0 for rate 0, Infinity for
 * k > 0 at rate 0.
 */
export function poissonPointBits(k: number, rate: number): number {
  if (!(rate > 0)) return k === 0 ? 0 : Infinity;
  return (rate - k * logFast(rate) + logFactorial(k)) / LN2;
}

/** Terms of a Poisson tail's series summed at most: beyond, the tail is under-counted. */
const TAIL_TERMS_MAX = 200;

/**
 * -log2 of the Poisson tail on the side of `k`: P(X >= k) when k is at or above `rate`, P(X <= k)
 * below it, for X ~ Poisson(`rate`) and `k` a count. Each series starts at P(X = k) and adds the
 * neighbouring terms outwards, whose ratios shrink, until they no longer change the sum.
 */
export function poissonTailBits(k: number, rate: number): number {
  const point = poissonPointBits(k, rate);
  if (!(point < Infinity) || !(rate > 0)) return point;
  let sum = 1, term = 1;
  if (k >= rate) {
    for (let j = 1; j <= TAIL_TERMS_MAX; j++) {
      term *= rate / (k + j);
      sum += term;
      if (term < 1e-12 * sum) break;
    }
  } else {
    for (let j = 0; j < k && j < TAIL_TERMS_MAX; j++) {
      term *= (k - j) / rate;
      sum += term;
      if (term < 1e-12 * sum) break;
    }
  }
  const bits = point - log2Fast(sum);
  return bits > 0 ? bits : 0;
}

/** Bits a count's Poisson tail at the expected value must exceed: the tail views' free 5. */
export const COUNT_FREE_BITS = 5;
/** Counts above this are not judged as Poisson: the terms, near k log k, would lose their bits. */
export const COUNT_REFERENCE_MAX = 4_294_967_296;
