/**
 * Orthonormal columns, one at a time: Gram-Schmidt against the columns before (twice is enough),
 * and a column filled from a fixed hash sequence when a basis must grow. Pure and deterministic
 * (no Math.random): the coherence tracker's basis is rebuilt bit for bit on replay.
 */

/**
 * Orthogonalises column `j` of `b` against columns `0..j)` (assumed orthonormal) by two passes of
 * modified Gram-Schmidt ("twice is enough"), then normalises it. Returns its norm before
 * normalising, or 0 (leaving it untouched) when it lies in the span of the others.
 */
export function orthogonalizeColumn(b: Float64Array, ld: number, m: number, j: number): number {
  const o = j * ld;
  let norm0 = 0;
  for (let i = 0; i < m; i++) norm0 += b[o + i]! * b[o + i]!;
  norm0 = Math.sqrt(norm0);
  if (norm0 === 0) return 0;
  for (let pass = 0; pass < 2; pass++) {
    for (let l = 0; l < j; l++) {
      const s = l * ld;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += b[s + i]! * b[o + i]!;
      if (dot === 0) continue;
      for (let i = 0; i < m; i++) b[o + i]! -= dot * b[s + i]!;
    }
  }
  let norm = 0;
  for (let i = 0; i < m; i++) norm += b[o + i]! * b[o + i]!;
  norm = Math.sqrt(norm);
  if (!(norm > 1e-10 * norm0)) return 0;
  const inv = 1 / norm;
  for (let i = 0; i < m; i++) b[o + i]! *= inv;
  return norm;
}

/**
 * Sets column `j` to a unit vector orthogonal to columns `0..j)`, from a fixed hash sequence:
 * deterministic, and in general position so that no eigenvector is missed by construction.
 * Requires j < m.
 */
export function fillColumn(b: Float64Array, ld: number, m: number, j: number): void {
  const o = j * ld;
  for (let attempt = 0;; attempt++) {
    for (let i = 0; i < m; i++) b[o + i] = hashUniform(i, j + attempt * 7919);
    if (orthogonalizeColumn(b, ld, m, j) > 0) return;
    if (attempt > 8) {
      // Pathological: fall back to unit vectors until one is independent.
      for (let e = 0; e < m; e++) {
        for (let i = 0; i < m; i++) b[o + i] = i === e ? 1 : 0;
        if (orthogonalizeColumn(b, ld, m, j) > 0) return;
      }
      throw new Error(`Cannot extend a basis of ${j} vectors in ${m} dimensions`);
    }
  }
}

/** A value in [-1, 1) from two integers (a 32-bit integer hash): a reproducible "random" entry. */
function hashUniform(i: number, j: number): number {
  let h = Math.imul(i + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(j + 0x7f4a7c15, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2147483648 - 1;
}
