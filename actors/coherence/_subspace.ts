/**
 * Warm-started subspace iteration for the top of a symmetric positive semi-definite matrix's
 * spectrum: the numeric core of the coherence tracker. It keeps `kq` orthonormal vectors (the last
 * update's Ritz vectors: `n` wanted plus some spare). After each rank-one covariance update it
 * augments them with a short Krylov sequence of the update's direction d (d, C d, C² d, ...,
 * orthogonalised; one matrix-vector product each), which is where a rank-one update moves the top
 * of the spectrum, then runs block power steps with Rayleigh-Ritz (a small dense eigenproblem,
 * solved by tridiagonal QL) until the estimated error of the sum of the top `n` Ritz values is
 * below the tolerance. Each block step is one matrix-block product; the next block is
 * orthonormalised by Cholesky QR computed from the Gram matrix already at hand, falling back to
 * explicit Gram-Schmidt when rounding makes that inaccurate (near-null directions during a
 * rank-deficient warm-up). With the Krylov augmentation, one block step per update is the norm.
 *
 * Error estimate: the Ritz residuals r_i = C u_i - θ_i u_i are orthogonal to the basis, so they
 * point into the part of the spectrum the basis has not captured, at or below about the smallest
 * Ritz value θ_min of the block. The sum of the top `n` Ritz values then falls short of the sum of
 * the top `n` eigenvalues by about Σ |r_i|² / (θ_i - θ_min) (the quadratic residual bound). The
 * residual norms come from the Gram matrix of C·B without forming the residual vectors.
 *
 * Matrices: `c` is row-major with leading dimension `ld`, blocks are column-major with the same
 * leading dimension (column j at `j * ld`). Only the leading `m` rows and columns are read or
 * written, so results never depend on the allocated capacity.
 */
import { fillColumn, orthogonalizeColumn } from "./_orthonormal_columns.ts";
import { type EigenWork, eigenWork, symmetricEigen } from "./_tridiagonal_eigen.ts";

/**
 * Krylov vectors of the update direction added to the warm basis: d, C d, C² d, ...
 * (orthogonalised).
 */
export const KRYLOV_DEPTH = 10;

/** Scratch space for `trackTopSubspace`. */
export interface SubspaceWork {
  ld: number;
  /** The widest block it holds: `kq + KRYLOV_DEPTH` columns. */
  kbMax: number;
  b: Float64Array;
  w: Float64Array;
  z: Float64Array;
  h: Float64Array;
  g: Float64Array;
  gv: Float64Array;
  r: Float64Array;
  t: Float64Array;
  values: Float64Array;
  vectors: Float64Array;
  eigen: EigenWork;
}

/** Allocates scratch space for blocks of up to `kbMax` columns of `ld` rows. */
export function subspaceWork(ld: number, kbMax: number): SubspaceWork {
  const kk = kbMax * kbMax;
  return {
    ld,
    kbMax,
    b: new Float64Array(ld * kbMax),
    w: new Float64Array(ld * kbMax),
    z: new Float64Array(ld * kbMax),
    h: new Float64Array(kk),
    g: new Float64Array(kk),
    gv: new Float64Array(kk),
    r: new Float64Array(kk),
    t: new Float64Array(kk),
    values: new Float64Array(kbMax),
    vectors: new Float64Array(kk),
    eigen: eigenWork(kbMax),
  };
}

/** What one tracking update did. */
export interface TrackOutcome {
  /** Sum of the top `n` Ritz values. */
  sum: number;
  /** Block iterations (matrix-block products) used. */
  iterations: number;
  /** The error estimate of `sum`, relative to `sum`, at the end. */
  estimate: number;
  converged: boolean;
}

/** Inputs of one tracking update. */
export interface TrackParams {
  /** The symmetric matrix, row-major, leading dimension `ld`. */
  c: Float64Array;
  ld: number;
  /** Rows and columns in use. */
  m: number;
  /** How many top eigenvalues are summed. */
  n: number;
  /** The tracked basis, `kq` orthonormal columns; replaced by the new top Ritz vectors. */
  q: Float64Array;
  kq: number;
  /** The direction of the last rank-one update, or null. */
  direction: Float64Array | null;
  /** Target relative error of the sum. */
  tolerance: number;
  iterationsMax: number;
  /** Re-orthonormalise the basis first, clearing the rounding that accumulates over updates. */
  reorthogonalize: boolean;
}

/** Relative size under which a Ritz value counts as zero (a null direction of the matrix). */
const NULL_RELATIVE = 1e-13;
/** A few units of rounding (unit roundoff 2⁻⁵³ ≈ 1.1e-16, with margin). */
const ROUNDOFF = 1e-15;
/**
 * Largest rounding error tolerated in the Gram matrix of the next block before forming it
 * explicitly.
 */
const GRAM_ERROR_MAX = 1e-12;

/**
 * Updates the basis `q` to the top Ritz vectors of `c` and returns the sum of the top `n` Ritz
 * values. The Ritz values, descending, are left in `work.values[0..kq)`.
 */
export function trackTopSubspace(p: TrackParams, work: SubspaceWork): TrackOutcome {
  const { c, ld, m, n, q, kq } = p;
  const z = work.z;
  let b = work.b;
  const { kb, zReady } = seedBlock(p, b, z);
  let outcome: TrackOutcome = { sum: 0, iterations: 0, estimate: Infinity, converged: false };
  for (let it = 1;; it++) {
    if (it === 1) {
      multiply(c, ld, m, b, 0, kq, z);
      multiply(c, ld, m, b, zReady, kb, z);
    } else {
      multiply(c, ld, m, b, 0, kb, z);
    }
    gram(b, z, ld, m, kb, work.h);
    gram(z, z, ld, m, kb, work.g);
    symmetricEigen(work.h, kb, work, work.eigen);
    const theta = work.values;
    const v = work.vectors;
    const g = work.g;
    const gv = work.gv;
    const top = theta[0]!;
    const floor = theta[kb - 1]!;
    let sum = 0;
    let err = 0;
    const roundoff = ROUNDOFF * Math.sqrt(m);
    for (let i = 0; i < n; i++) {
      const ti = theta[i]!;
      sum += ti;
      // |r_i|² = v_iᵀ (ZᵀZ) v_i - θ_i², as B is orthonormal and Bᵀ Z v_i = θ_i v_i. G's rounding
      // error is about ε √m |z_l| |z_k| per entry, |z_l| ≈ θ_l: below that the residual is noise.
      const vgv = quadratic(g, v, kb, i, i, gv);
      const res2 = vgv - ti * ti;
      const scale = weight(v, theta, kb, i);
      if (res2 > roundoff * scale * scale) {
        err += res2 / Math.max(ti - floor, NULL_RELATIVE * top);
      }
    }
    const estimate = sum > 0 ? err / sum : 0;
    const converged = estimate <= p.tolerance;
    outcome = { sum, iterations: it, estimate, converged };
    if (converged || it >= p.iterationsMax) {
      combine(b, v, ld, m, kb, kq, q, work.t);
      break;
    }
    const w = work.w;
    if (!nextBlock(z, w, m, ld, kb, theta, v, work)) {
      // Cholesky QR from the Gram matrix is not accurate enough (a cold start, a nearly dependent
      // block): form the block explicitly and orthonormalise it column by column.
      explicitBlock(b, z, w, m, ld, kb, theta, v);
      for (let j = 0; j < kb; j++) {
        if (orthogonalizeColumn(w, ld, m, j) === 0) fillColumn(w, ld, m, j);
      }
    }
    work.w = b;
    work.b = w;
    b = w;
  }
  return outcome;
}

/**
 * The first block: the basis `q` (reorthogonalised if asked), then the update's direction and its
 * Krylov vectors. Returns the block's width and the column up to which `z` already holds C b.
 */
function seedBlock(
  p: TrackParams,
  b: Float64Array,
  z: Float64Array,
): { kb: number; zReady: number } {
  const { c, ld, m, q, kq } = p;
  for (let j = 0; j < kq; j++) {
    const o = j * ld;
    for (let i = 0; i < m; i++) b[o + i] = q[o + i]!;
  }
  if (p.reorthogonalize) {
    for (let j = 0; j < kq; j++) {
      if (orthogonalizeColumn(b, ld, m, j) === 0) fillColumn(b, ld, m, j);
    }
  }
  let kb = kq;
  // Columns kq..zReady already have z = C b (the Krylov matvecs), so the first product skips them.
  let zReady = kq;
  if (p.direction !== null) {
    // The update's direction and its Krylov vectors, outside the tracked span: where a rank-one
    // update moves the top of the spectrum, found at the cost of one matrix-vector product each.
    const d = p.direction;
    for (let depth = 0; depth < KRYLOV_DEPTH && kb < m; depth++) {
      const o = kb * ld;
      if (depth === 0) {
        for (let i = 0; i < m; i++) b[o + i] = d[i]!;
      } else {
        matvec(c, ld, m, b, o - ld, z, o - ld);
        for (let i = 0; i < m; i++) b[o + i] = z[o - ld + i]!;
        zReady = kb;
      }
      if (orthogonalizeColumn(b, ld, m, kb) === 0) break;
      kb++;
    }
  }
  return { kb, zReady };
}

/** Σ_l |v[l, i]| θ_l: the size of the block columns that make up Ritz vector i. */
function weight(v: Float64Array, theta: Float64Array, kb: number, i: number): number {
  let s = 0;
  for (let l = 0; l < kb; l++) s += Math.abs(v[l * kb + i]! * theta[l]!);
  return s;
}

/** vᵢᵀ G vⱼ for the columns i, j of v (kb × kb row-major); `gv` is scratch. */
function quadratic(
  g: Float64Array,
  v: Float64Array,
  kb: number,
  i: number,
  j: number,
  gv: Float64Array,
): number {
  for (let r = 0; r < kb; r++) {
    let s = 0;
    const rk = r * kb;
    for (let l = 0; l < kb; l++) s += g[rk + l]! * v[l * kb + j]!;
    gv[r] = s;
  }
  let out = 0;
  for (let r = 0; r < kb; r++) out += v[r * kb + i]! * gv[r]!;
  return out;
}

/**
 * The next block by Cholesky QR without forming it first: with W = Z V Θ⁻¹, WᵀW = Θ⁻¹ (Vᵀ G V) Θ⁻¹,
 * so R comes from kb × kb algebra and the new block W R⁻¹ = Z (V Θ⁻¹ R⁻¹) takes one pass over Z.
 * The columns of W are the Ritz vectors plus their residuals over θ, so WᵀW is close to the
 * identity and one Cholesky QR pass is accurate, provided G's rounding is small at the scale of
 * each column. Returns false, having written nothing, when it is not (a null column, a cold start
 * mixing small and large columns) or the Cholesky factorisation breaks down.
 */
function nextBlock(
  z: Float64Array,
  w: Float64Array,
  m: number,
  ld: number,
  kb: number,
  theta: Float64Array,
  v: Float64Array,
  work: SubspaceWork,
): boolean {
  const g = work.g;
  const gv = work.gv;
  const r = work.r;
  const t = work.t;
  const top = theta[0]!;
  // (Vᵀ G V)_ii / θ_i² carries G's rounding times (Σ_l |v_li| θ_l / θ_i)²: when that is large (a
  // cold start mixes small and large columns) the Gram matrix is too coarse to build R from.
  const roundoff = ROUNDOFF * Math.sqrt(m);
  for (let i = 0; i < kb; i++) {
    const ti = theta[i]!;
    // A null column is noise at the scale of G: take the explicit path.
    if (!(ti > NULL_RELATIVE * top)) return false;
    const amp = weight(v, theta, kb, i) / ti;
    if (roundoff * amp * amp > GRAM_ERROR_MAX) return false;
  }
  // gv = G V (kb × kb), then r = Vᵀ G V scaled by D, plus the identity on null columns.
  for (let i = 0; i < kb; i++) {
    for (let j = 0; j < kb; j++) {
      let s = 0;
      for (let l = 0; l < kb; l++) s += g[i * kb + l]! * v[l * kb + j]!;
      gv[i * kb + j] = s;
    }
  }
  for (let i = 0; i < kb; i++) {
    const ti = theta[i]!;
    for (let j = i; j < kb; j++) {
      let s = 0;
      for (let l = 0; l < kb; l++) s += v[l * kb + i]! * gv[l * kb + j]!;
      r[i * kb + j] = s / (ti * theta[j]!);
    }
  }
  // In-place upper Cholesky: r = RᵀR, R upper triangular.
  for (let j = 0; j < kb; j++) {
    let d = r[j * kb + j]!;
    for (let l = 0; l < j; l++) d -= r[l * kb + j]! * r[l * kb + j]!;
    if (!(d > 1e-8 * r[j * kb + j]!)) return false;
    const rjj = Math.sqrt(d);
    r[j * kb + j] = rjj;
    for (let i = j + 1; i < kb; i++) {
      let s = r[j * kb + i]!;
      for (let l = 0; l < j; l++) s -= r[l * kb + j]! * r[l * kb + i]!;
      r[j * kb + i] = s / rjj;
    }
  }
  // t = R⁻¹ (upper triangular), by back substitution column by column.
  for (let j = kb - 1; j >= 0; j--) {
    const rjj = r[j * kb + j]!;
    for (let i = j + 1; i < kb; i++) t[i * kb + j] = 0;
    t[j * kb + j] = 1 / rjj;
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let l = i + 1; l <= j; l++) s += r[i * kb + l]! * t[l * kb + j]!;
      t[i * kb + j] = -s / r[i * kb + i]!;
    }
  }
  // gv <- the coefficients on Z: V D R⁻¹.
  for (let i = 0; i < kb; i++) {
    const inv = 1 / theta[i]!;
    for (let j = i; j < kb; j++) t[i * kb + j]! *= inv;
  }
  for (let l = 0; l < kb; l++) {
    for (let j = 0; j < kb; j++) {
      let s = 0;
      for (let i = 0; i <= j; i++) s += v[l * kb + i]! * t[i * kb + j]!;
      gv[l * kb + j] = s;
    }
  }
  product(z, gv, ld, m, kb, kb, w, false);
  return true;
}

/** w = C u_j / θ_j, or u_j itself for a null θ_j: the next block formed explicitly. */
function explicitBlock(
  b: Float64Array,
  z: Float64Array,
  w: Float64Array,
  m: number,
  ld: number,
  kb: number,
  theta: Float64Array,
  v: Float64Array,
): void {
  const top = theta[0]!;
  for (let j = 0; j < kb; j++) {
    const tj = theta[j]!;
    const o = j * ld;
    const useZ = tj > NULL_RELATIVE * top;
    const src = useZ ? z : b;
    const scale = useZ ? 1 / tj : 1;
    for (let i = 0; i < m; i++) w[o + i] = 0;
    for (let l = 0; l < kb; l++) {
      const coef = v[l * kb + j]! * scale;
      if (coef === 0) continue;
      const s = l * ld;
      for (let i = 0; i < m; i++) w[o + i]! += coef * src[s + i]!;
    }
  }
}

/**
 * out[:, j] (+)= Σ_l x[:, l] coef[l, j] for j < cols (coef row-major kb × cols), four output
 * columns at a time so each input entry is loaded once per four uses.
 */
function product(
  x: Float64Array,
  coef: Float64Array,
  ld: number,
  m: number,
  kb: number,
  cols: number,
  out: Float64Array,
  accumulate: boolean,
): void {
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const o0 = j * ld;
    const o1 = o0 + ld;
    const o2 = o1 + ld;
    const o3 = o2 + ld;
    if (!accumulate) {
      for (let i = 0; i < m; i++) {
        out[o0 + i] = 0;
        out[o1 + i] = 0;
        out[o2 + i] = 0;
        out[o3 + i] = 0;
      }
    }
    for (let l = 0; l < kb; l++) {
      const a0 = coef[l * cols + j]!;
      const a1 = coef[l * cols + j + 1]!;
      const a2 = coef[l * cols + j + 2]!;
      const a3 = coef[l * cols + j + 3]!;
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      const s = l * ld;
      for (let i = 0; i < m; i++) {
        const y = x[s + i]!;
        out[o0 + i]! += a0 * y;
        out[o1 + i]! += a1 * y;
        out[o2 + i]! += a2 * y;
        out[o3 + i]! += a3 * y;
      }
    }
  }
  for (; j < cols; j++) {
    const o = j * ld;
    if (!accumulate) { for (let i = 0; i < m; i++) out[o + i] = 0; }
    for (let l = 0; l < kb; l++) {
      const a = coef[l * cols + j]!;
      if (a === 0) continue;
      const s = l * ld;
      for (let i = 0; i < m; i++) out[o + i]! += a * x[s + i]!;
    }
  }
}

/** out[to..] = C b[from..], over the leading m rows (`from`, `to`: offsets of columns). */
function matvec(
  c: Float64Array,
  ld: number,
  m: number,
  b: Float64Array,
  from: number,
  out: Float64Array,
  to: number,
): void {
  for (let i = 0; i < m; i++) {
    const row = i * ld;
    let s = 0;
    for (let l = 0; l < m; l++) s += c[row + l]! * b[from + l]!;
    out[to + i] = s;
  }
}

/** z[:, j] = C b[:, j] for j0 <= j < j1, over the leading m rows. */
function multiply(
  c: Float64Array,
  ld: number,
  m: number,
  b: Float64Array,
  j0: number,
  j1: number,
  z: Float64Array,
): void {
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const b0 = j * ld;
    const b1 = b0 + ld;
    const b2 = b1 + ld;
    const b3 = b2 + ld;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const c0 = i * ld;
      const c1 = c0 + ld;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let l = 0; l < m; l++) {
        const x0 = c[c0 + l]!;
        const x1 = c[c1 + l]!;
        const y0 = b[b0 + l]!;
        const y1 = b[b1 + l]!;
        const y2 = b[b2 + l]!;
        const y3 = b[b3 + l]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      z[b0 + i] = s00;
      z[b1 + i] = s01;
      z[b2 + i] = s02;
      z[b3 + i] = s03;
      z[b0 + i + 1] = s10;
      z[b1 + i + 1] = s11;
      z[b2 + i + 1] = s12;
      z[b3 + i + 1] = s13;
    }
    for (; i < m; i++) {
      const c0 = i * ld;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let l = 0; l < m; l++) {
        const x = c[c0 + l]!;
        s0 += x * b[b0 + l]!;
        s1 += x * b[b1 + l]!;
        s2 += x * b[b2 + l]!;
        s3 += x * b[b3 + l]!;
      }
      z[b0 + i] = s0;
      z[b1 + i] = s1;
      z[b2 + i] = s2;
      z[b3 + i] = s3;
    }
  }
  for (; j < j1; j++) {
    const bj = j * ld;
    for (let i = 0; i < m; i++) {
      const c0 = i * ld;
      let s = 0;
      for (let l = 0; l < m; l++) s += c[c0 + l]! * b[bj + l]!;
      z[bj + i] = s;
    }
  }
}

/** out = xᵀ y (kb × kb, row-major), symmetrised from the upper triangle. */
function gram(
  x: Float64Array,
  y: Float64Array,
  ld: number,
  m: number,
  kb: number,
  out: Float64Array,
): void {
  for (let i = 0; i < kb; i++) {
    const xi = i * ld;
    for (let j = i; j < kb; j++) {
      const yj = j * ld;
      let s = 0;
      for (let r = 0; r < m; r++) s += x[xi + r]! * y[yj + r]!;
      out[i * kb + j] = s;
      out[j * kb + i] = s;
    }
  }
}

/** q[:, j] = Σ_l b[:, l] v[l, j] for j < kq: the Ritz vectors of the first kq Ritz values. */
function combine(
  b: Float64Array,
  v: Float64Array,
  ld: number,
  m: number,
  kb: number,
  kq: number,
  q: Float64Array,
  packed: Float64Array,
): void {
  // v is kb × kb; product() wants kb × kq coefficients, so repack the leading kq columns.
  if (kq === kb) {
    product(b, v, ld, m, kb, kq, q, false);
    return;
  }
  for (let l = 0; l < kb; l++) {
    for (let j = 0; j < kq; j++) packed[l * kq + j] = v[l * kb + j]!;
  }
  product(b, packed, ld, m, kb, kq, q, false);
}
