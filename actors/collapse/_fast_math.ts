/**
 * exp and log1p for the collapse kernel's per-hypothesis loop, in plain arithmetic that the
 * compiler inlines: Math.exp and Math.log1p are library calls, and two of them per hypothesis per
 * sample were half of the kernel's time. Both reduce their argument with small tables (built here
 * from exact arithmetic and series, not from Math.*, so they are the same on every runtime) and
 * finish with a short Taylor polynomial; both are within a few units in the last place of the
 * library functions (the tests bound them).
 */

/** 2^k for k = -1074 .. 1023, at P2[k + P2_BIAS]. */
const P2_BIAS = 1074;
const P2 = new Float64Array(1074 + 1024);
/** 2^(i/64) for i = 0 .. 63. */
const EXP_TABLE = new Float64Array(64);
/** log(1 + i/128) and 1 / (1 + i/128) for i = 0 .. 127. */
const LOG_TABLE = new Float64Array(128);
const INV_TABLE = new Float64Array(128);
/** The high 32 bits of a double, read through a shared buffer (at byte 4 on little-endian). */
const BITS = new Float64Array(1);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const BITS_HI = new Int32Array(BITS.buffer, LITTLE_ENDIAN ? 4 : 0, 1);

/** ln 2 split so that n * LN2_HI is exact for |n| < 2^20. */
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const LN2 = 0.6931471805599453;
/** 64 / ln 2, and ln 2 / 64 split as above. */
const EXP_K = 92.33248261689366;
const LN2_64_HI = LN2_HI / 64;
const LN2_64_LO = LN2_LO / 64;
/** Adding and subtracting 1.5 * 2^52 rounds a double of magnitude below 2^51 to an integer. */
const ROUND_SHIFT = 6755399441055744;
/** exp(y) is taken as 0 below EXP_MIN (it is under 1e-323 there); the tables end at EXP_MAX. */
const EXP_MIN = -744;
const EXP_MAX = 709;
/** Above this, log1p defers to Math.log1p (beyond the tables' range and never hot). */
const LOG1P_TABLE_MAX = 2 ** 1000;

/** exp(r) for 0 <= r <= ln 2 by its Taylor series (all terms positive: a few ulp at most). */
function expSeries(r: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 30; k++) {
    term *= r / k;
    sum += term;
  }
  return sum;
}

/** log1p(t) for 0 <= t < 1 by the series 2 atanh(t / (2 + t)). */
function log1pSeries(t: number): number {
  const u = t / (2 + t);
  const u2 = u * u;
  let pow = u;
  let sum = 0;
  for (let k = 1; k < 80; k += 2) {
    sum += pow / k;
    pow *= u2;
  }
  return 2 * sum;
}

{
  let p = 1;
  for (let k = 0; k <= 1023; k++, p *= 2) P2[k + P2_BIAS] = p;
  p = 1;
  for (let k = 0; k >= -1074; k--, p /= 2) P2[k + P2_BIAS] = p;
  for (let i = 0; i < 64; i++) EXP_TABLE[i] = expSeries(i * LN2 / 64);
  for (let i = 0; i < 128; i++) {
    LOG_TABLE[i] = log1pSeries(i / 128);
    INV_TABLE[i] = 128 / (128 + i);
  }
}

/** exp(y): 0 below EXP_MIN and for NaN, Math.exp above EXP_MAX (never hot). */
export function expFast(y: number): number {
  if (!(y >= EXP_MIN && y <= EXP_MAX)) return y > EXP_MAX ? Math.exp(y) : 0;
  const t = y * EXP_K + ROUND_SHIFT;
  const n = t - ROUND_SHIFT;
  const r = y - n * LN2_64_HI - n * LN2_64_LO;
  const ni = n | 0;
  const poly = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))));
  return EXP_TABLE[ni & 63]! * P2[(ni >> 6) + P2_BIAS]! * poly;
}

/**
 * log1p(z) for z >= 0 (NaN for NaN). One path for every z, without a branch on its size (which
 * the processor could not predict: hypotheses alternate between small and large z): for small z,
 * w = 1 + z has e = 0 and idx = 0, and the `lost` term carries the bits of z that w dropped.
 */
export function log1pFast(z: number): number {
  if (!(z < LOG1P_TABLE_MAX)) return Math.log1p(z);
  const w = 1 + z;
  BITS[0] = w;
  const hi = BITS_HI[0]!;
  const e = (hi >> 20) - 1023;
  const idx = (hi >> 13) & 127;
  const scale = P2[P2_BIAS - e]!;
  const inv = INV_TABLE[idx]!;
  // w scale = c (1 + t), c = 1 + idx/128 (w scale - c is exact), so log1p(z) = e ln2 + log c +
  // log1p(t). w = 1 + z rounded: (z - (w - 1)) / w restores what the rounding lost (exact for z < 1).
  const lost = (z - (w - 1)) * (scale * inv);
  return e * LN2_HI +
    (LOG_TABLE[idx]! + (e * LN2_LO + (lost + log1pPoly((w * scale - (1 + idx / 128)) * inv))));
}

/** log1p(t) for 0 <= t < 1/128 by its Taylor series to t^7 (relative error below 3e-16). */
function log1pPoly(t: number): number {
  return t *
    (1 + t * (-1 / 2 + t * (1 / 3 + t * (-1 / 4 + t * (1 / 5 + t * (-1 / 6 + t * (1 / 7)))))));
}
