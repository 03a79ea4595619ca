/**
 * Shared by the coherence tests: a seeded factor-model price feed, a way to push bars of it
 * through the kernel one single-sample frame per channel, and the reference absorption ratio from
 * a full symmetric eigen-decomposition (ml-matrix) of the kernel's own covariance.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { Prng } from "../../../sim/prng/mod.ts";
import {
  type CoherenceResult,
  type CoherenceState,
  covarianceOf,
  stepCoherence,
  topCountOf,
} from "../../../actors/coherence/kernel.ts";

/** Bar width used by the tests, in microseconds. */
export const BAR_US = 1_000_000;
/** An arbitrary epoch for the tests' first bar. */
export const T0 = 1_700_000_000_000_000;

/** A factor model: r_i = β_i f + γ_i s_{sector(i)} + σ_i ε_i, prices exp(Σ r). */
export interface FactorFeed {
  names: string[];
  prices: Float64Array;
  /** Advances one bar; `marketVol` scales the market factor (regimes). */
  next(marketVol?: number): Float64Array;
}

/** A seeded factor-model feed of `n` channels in `sectors` sectors. */
export function factorFeed(n: number, seed: number, sectors = 5): FactorFeed {
  const prng = new Prng(seed);
  const beta = Array.from({ length: n }, () => 0.5 + prng.next());
  const gamma = Array.from({ length: n }, () => 0.5 + 0.5 * prng.next());
  const sigma = Array.from({ length: n }, () => 0.005 + 0.01 * prng.next());
  const names = Array.from({ length: n }, (_, i) => `ch${String(i).padStart(3, "0")}`);
  const prices = new Float64Array(n).fill(100);
  const sector = new Float64Array(sectors);
  return {
    names,
    prices,
    next(marketVol = 0.01) {
      const f = marketVol * prng.normal();
      for (let s = 0; s < sectors; s++) sector[s] = 0.004 * prng.normal();
      for (let i = 0; i < n; i++) {
        const r = beta[i]! * f + gamma[i]! * sector[i % sectors]! + sigma[i]! * prng.normal();
        prices[i] = prices[i]! * Math.exp(r);
      }
      return prices;
    },
  };
}

/** Feeds one bar (bar index `bar`) of `prices` as one single-sample frame per channel. */
export function feedBar(
  s: CoherenceState,
  names: readonly string[],
  prices: Float64Array,
  bar: number,
): CoherenceResult[] {
  const out: CoherenceResult[] = [];
  for (let i = 0; i < names.length; i++) {
    out.push(stepCoherence(s, {
      channel: names[i]!,
      seq0: bar,
      t: new Float64Array([T0 + bar * BAR_US]),
      v: new Float64Array([prices[i]!]),
    }));
  }
  return out;
}

/** Eigenvalues of a symmetric m × m row-major matrix, descending (ml-matrix). */
export function eigenvalues(matrix: Float64Array, m: number): number[] {
  const a = new Matrix(m, m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) a.set(i, j, matrix[i * m + j]!);
  }
  const e = new EigenvalueDecomposition(a, { assumeSymmetric: true });
  return e.realEigenvalues.slice().sort((x, y) => y - x);
}

/** The absorption ratio of the kernel's covariance by a full decomposition. */
export function referenceRatio(s: CoherenceState): number {
  const { matrix } = covarianceOf(s);
  const m = Math.round(Math.sqrt(matrix.length));
  const ev = eigenvalues(matrix, m);
  const n = topCountOf(s);
  let top = 0;
  let all = 0;
  ev.forEach((x, i) => {
    all += x;
    if (i < n) top += x;
  });
  return top / all;
}
