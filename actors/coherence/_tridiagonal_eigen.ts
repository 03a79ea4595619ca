/**
 * Eigen-decomposition of a small dense symmetric matrix: Householder reduction to tridiagonal form,
 * then the implicit QL algorithm with Wilkinson-type shifts (the classic EISPACK tred2/tql2 pair,
 * written here over flat typed arrays). It costs about 7k³ flops for a k × k matrix whatever its
 * structure, against 40k³ or more for cyclic Jacobi, which is what the coherence tracker's
 * Rayleigh-Ritz step needs at k ≈ 100. Accurate to working precision relative to the matrix's norm,
 * and deterministic.
 */
import { hypotFast } from "../math/mod.ts";

const EPS = 2.220446049250313e-16;
/** QL iterations allowed per eigenvalue; two or three is typical. */
const ITERATIONS_MAX = 60;

/** Scratch space for `symmetricEigen`, for matrices up to `k` × `k`. */
export interface EigenWork {
  k: number;
  /** Rows are the eigenvectors while QL runs (so rotations touch contiguous memory). */
  zt: Float64Array;
  d: Float64Array;
  e: Float64Array;
  order: Int32Array;
}

/** Allocates scratch space for matrices up to `k` × `k`. */
export function eigenWork(k: number): EigenWork {
  return {
    k,
    zt: new Float64Array(k * k),
    d: new Float64Array(k),
    e: new Float64Array(k),
    order: new Int32Array(k),
  };
}

/**
 * Eigen-decomposes the symmetric `k` × `k` matrix `a` (row-major, overwritten). On return
 * `out.values[0..k)` holds the eigenvalues in descending order and `out.vectors` (row-major k × k)
 * the matching unit eigenvectors as columns.
 */
export function symmetricEigen(
  a: Float64Array,
  k: number,
  out: { values: Float64Array; vectors: Float64Array },
  work: EigenWork,
): void {
  const d = work.d;
  const e = work.e;
  tridiagonalize(a, k, d, e);
  // a now holds the orthogonal Q with A = Q T Qᵀ; QL rotates its columns, kept as rows of zt.
  const zt = work.zt;
  for (let i = 0; i < k; i++) {
    for (let r = 0; r < k; r++) zt[i * k + r] = a[r * k + i]!;
  }
  ql(d, e, k, zt);
  const order = work.order;
  for (let i = 0; i < k; i++) order[i] = i;
  // Insertion sort, descending; equal values keep their index order (deterministic).
  for (let i = 1; i < k; i++) {
    const oi = order[i]!;
    const di = d[oi]!;
    let j = i - 1;
    while (j >= 0 && d[order[j]!]! < di) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = oi;
  }
  const values = out.values;
  const vectors = out.vectors;
  for (let j = 0; j < k; j++) {
    const src = order[j]!;
    values[j] = d[src]!;
    const row = src * k;
    for (let r = 0; r < k; r++) vectors[r * k + j] = zt[row + r]!;
  }
}

/**
 * Householder reduction of the symmetric `a` to tridiagonal form: on return d holds the diagonal,
 * e[1..k) the subdiagonal (e[i] couples i-1 and i), and `a` the accumulated orthogonal transform.
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const ri = i * n;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[ri + k]!);
      if (scale === 0) {
        e[i] = a[ri + l]!;
      } else {
        for (let k = 0; k <= l; k++) {
          const x = a[ri + k]! / scale;
          a[ri + k] = x;
          h += x * x;
        }
        let f = a[ri + l]!;
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        a[ri + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          const rj = j * n;
          a[rj + i] = a[ri + j]! / h;
          g = 0;
          for (let k = 0; k <= j; k++) g += a[rj + k]! * a[ri + k]!;
          for (let k = j + 1; k <= l; k++) g += a[k * n + j]! * a[ri + k]!;
          e[j] = g / h;
          f += e[j]! * a[ri + j]!;
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const fj = a[ri + j]!;
          const gj = e[j]! - hh * fj;
          e[j] = gj;
          const rj = j * n;
          for (let k = 0; k <= j; k++) a[rj + k]! -= fj * e[k]! + gj * a[ri + k]!;
        }
      }
    } else {
      e[i] = a[ri + l]!;
    }
    d[i] = h;
  }
  d[0] = 0;
  e[0] = 0;
  // Accumulate the transforms.
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    if (d[i] !== 0) {
      for (let j = 0; j < i; j++) {
        let g = 0;
        for (let k = 0; k < i; k++) g += a[ri + k]! * a[k * n + j]!;
        for (let k = 0; k < i; k++) a[k * n + j]! -= g * a[k * n + i]!;
      }
    }
    d[i] = a[ri + i]!;
    a[ri + i] = 1;
    for (let j = 0; j < i; j++) {
      a[j * n + i] = 0;
      a[ri + j] = 0;
    }
  }
}

/** Implicit QL on the tridiagonal (d, e), rotating the rows of zt (the eigenvectors). */
function ql(d: Float64Array, e: Float64Array, n: number, zt: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= EPS * dd) break;
      }
      if (m === l) break;
      if (++iterations > ITERATIONS_MAX) {
        throw new Error(`Cannot find eigenvalue ${l} of a ${n} x ${n} tridiagonal matrix`);
      }
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = hypotFast(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = hypotFast(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1]! -= p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        const r0 = i * n;
        const r1 = r0 + n;
        for (let k = 0; k < n; k++) {
          const z1 = zt[r1 + k]!;
          const z0 = zt[r0 + k]!;
          zt[r1 + k] = s * z0 + c * z1;
          zt[r0 + k] = c * z0 - s * z1;
        }
      }
      if (underflow) continue;
      d[l]! -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}
