/**
 * exp, log, log1p, log2, pow, hypot and cos that give the same bits on every runtime. `Math.exp`,
 * `Math.log` and the rest are only specified to be close to the true value, and they differ in the
 * last bit between JavaScript engines and between versions of one (Node 20 and Deno 2 disagree on
 * many arguments), so a kernel that used them would step to different states on another runtime,
 * and a session recorded on one could not be replayed bit for bit on the other. Kernels use these
 * instead.
 *
 * They are plain arithmetic (IEEE-754 +, -, *, / and table lookups, which every engine does
 * identically), fast enough for per-sample loops (the compiler inlines them: in the collapse
 * kernel they halved the time of its two calls per hypothesis per sample). Each reduces its
 * argument with small tables built here from exact arithmetic and series, not from Math.*, and
 * finishes with a short polynomial; each is within a few units in the last place of the library
 * function (the tests bound them), and log2 is exact at powers of two.
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
/** Above this, log1p(z) is log(z) (1 + z rounds to z long before). */
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

/** The largest y whose exp is finite. */
const EXP_OVERFLOW = 709.782712893384;

/** exp(y): 0 below EXP_MIN and for NaN, Infinity past EXP_OVERFLOW. */
export function expFast(y: number): number {
  if (!(y >= EXP_MIN && y <= EXP_MAX)) {
    if (!(y > EXP_MAX)) return 0;
    if (y > EXP_OVERFLOW) return Infinity;
    const half = expFast(y / 2); // y / 2 is exact; squaring doubles a few ulp
    return half * half;
  }
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
  if (!(z < LOG1P_TABLE_MAX)) return z === z ? logFast(z) : NaN; // 1 + z is z there
  const w = 1 + z;
  BITS[0] = w;
  const hi = BITS_HI[0]!;
  const e = (hi >> 20) - 1023;
  const idx = (hi >> 13) & 127;
  const scale = P2[P2_BIAS - e]!;
  const inv = INV_TABLE[idx]!;
  // w scale = c (1 + t), c = 1 + idx/128 (w scale - c is exact), so log1p(z) = e ln2 + log c +
  // log1p(t). w = 1 + z rounded: (z - (w - 1)) / w restores what the rounding lost (exact for z <
  // 1).
  const lost = (z - (w - 1)) * (scale * inv);
  return e * LN2_HI +
    (LOG_TABLE[idx]! + (e * LN2_LO + (lost + log1pPoly((w * scale - (1 + idx / 128)) * inv))));
}

/** log1p(t) for 0 <= t < 1/128 by its Taylor series to t^7 (relative error below 3e-16). */
function log1pPoly(t: number): number {
  return t *
    (1 + t * (-1 / 2 + t * (1 / 3 + t * (-1 / 4 + t * (1 / 5 + t * (-1 / 6 + t * (1 / 7)))))));
}

/** 1 / ln 2. */
const INV_LN2 = 1.4426950408889634;
/** 2^54, to bring a subnormal argument into the normal range. */
const TWO54 = 18014398509481984;

/**
 * Splits a positive finite x into e and the table index and remainder of its mantissa m in
 * [1, 2): x = 2^e m, m = c (1 + t), c = 1 + idx/128, 0 <= t < 1/128. Results in SPLIT_E, SPLIT_IDX
 * (small integers) and SPLIT_T[0]: a double goes in a typed array, because a module-level `let`
 * holding a double gets a fresh heap number at every assignment (6 MB/s of garbage in a host
 * running `anomaly`).
 */
let SPLIT_E = 0, SPLIT_IDX = 0;
const SPLIT_T = new Float64Array(1);
function split(x: number): void {
  let bias = 0;
  if (x < 2.2250738585072014e-308) {
    x *= TWO54;
    bias = -54;
  }
  BITS[0] = x;
  const hi = BITS_HI[0]!;
  const e = (hi >> 20) - 1023;
  const idx = (hi >> 13) & 127;
  SPLIT_E = e + bias;
  SPLIT_IDX = idx;
  SPLIT_T[0] = (x * P2[P2_BIAS - e]! - (1 + idx / 128)) * INV_TABLE[idx]!;
}

/**
 * log(x) for x in (0.5, 2), where the result is small and the table path would lose it to
 * cancellation: log1p of x - 1 (exact there) above 1, and -log1p((1 - x) / x) below.
 */
function logNearOne(x: number): number {
  return x >= 1 ? log1pFast(x - 1) : -log1pFast((1 - x) / x);
}

/** log(x): NaN below 0 and for NaN, -Infinity at 0, Infinity at Infinity. */
export function logFast(x: number): number {
  if (!(x > 0 && x < Infinity)) return x === 0 ? -Infinity : x === Infinity ? Infinity : NaN;
  if (x > 0.5 && x < 2) return logNearOne(x);
  split(x);
  return SPLIT_E * LN2_HI + (LOG_TABLE[SPLIT_IDX]! + (SPLIT_E * LN2_LO + log1pPoly(SPLIT_T[0]!)));
}

/**
 * log2(x), exact at powers of two: NaN below 0 and for NaN, -Infinity at 0, Infinity at Infinity.
 */
export function log2Fast(x: number): number {
  if (!(x > 0 && x < Infinity)) return x === 0 ? -Infinity : x === Infinity ? Infinity : NaN;
  if (x > 0.5 && x < 2) return logNearOne(x) * INV_LN2;
  split(x);
  return SPLIT_E + (LOG_TABLE[SPLIT_IDX]! + log1pPoly(SPLIT_T[0]!)) * INV_LN2;
}

/**
 * a^b for a > 0 (and 1 for b = 0): exp(b log a), within a few ulp for results of moderate size
 * (the error grows with |b log a|; kernels use it for decay factors and hazards). NaN for a <= 0
 * unless b = 0.
 */
export function powFast(a: number, b: number): number {
  if (b === 0) return 1;
  if (a === 1) return 1;
  if (!(a > 0)) return NaN;
  return expFast(b * logFast(a));
}

/** sqrt(a^2 + b^2) without overflow: Math.hypot's last bit is left to the engine. */
export function hypotFast(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  const m = a > b ? a : b;
  if (m === 0 || m === Infinity) return m;
  if (!(m === m)) return NaN;
  const x = a / m, y = b / m;
  return m * Math.sqrt(x * x + y * y);
}

/** pi / 2 in three parts, so that n * PIO2_1 and n * PIO2_2 are exact for |n| < 2^20. */
const PIO2_1 = 1.5707963267341256;
const PIO2_2 = 6.077100506506192e-11;
const PIO2_3 = 2.0222662487959506e-21;
const INV_PIO2 = 0.6366197723675814;

/** cos(r) and sin(r) for |r| <= pi/4 by their Taylor series to the 16th and 17th powers. */
function cosPoly(r: number): number {
  const z = r * r;
  return 1 - z / 2 * (1 - z / 12 * (1 - z / 30 * (1 - z / 56 * (1 - z / 90 * (1 - z / 132 *
                          (1 - z / 182 * (1 - z / 240)))))));
}
function sinPoly(r: number): number {
  const z = r * r;
  return r * (1 - z / 6 * (1 - z / 20 * (1 - z / 42 * (1 - z / 72 * (1 - z / 110 * (1 - z / 156 *
                          (1 - z / 210 * (1 - z / 272))))))));
}

/**
 * cos(x) for |x| < 2^20 (NaN beyond, and for NaN and infinities): x less the nearest multiple n of
 * pi/2, taken off in three exact-product parts, then the series of the quadrant's function.
 */
export function cosFast(x: number): number {
  if (!(Math.abs(x) < 1048576)) return NaN;
  const n = Math.round(x * INV_PIO2);
  const r = ((x - n * PIO2_1) - n * PIO2_2) - n * PIO2_3;
  switch (n & 3) {
    case 0:
      return cosPoly(r);
    case 1:
      return -sinPoly(r);
    case 2:
      return -cosPoly(r);
    default:
      return sinPoly(r);
  }
}
