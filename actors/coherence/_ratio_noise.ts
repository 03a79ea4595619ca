/**
 * The sampling variance of the absorption ratio: how much the ratio of an exponentially weighted
 * covariance moves from bar to bar by chance alone, predicted from the covariance itself. The
 * shift's sd, learnt from the ratio's own history, needs many covariance half-lives of bars before
 * it means anything (consecutive ratios share most of their returns); this prediction is there
 * from the first bar, so a young group measures its first episodes against its calm noise.
 *
 * For Gaussian returns, a covariance estimate S of Σ from an effective sample of size n has
 * Var(tr(A S)) = 2 tr(AΣAΣ) / n for a symmetric A. The ratio R = Σ_top λ / tr S moves to first
 * order as tr((P - R I) dS) / tr S, P the projector on the top eigenvectors (which commutes with
 * Σ), so Var(R) ≈ 2 ((1 - R)² Σ_top λ² + R² Σ_rest λ²) / (n (tr S)²): the delta method, with
 * Σ taken as S. n is the exponential weights' effective sample size (Σw)² / Σw².
 */
import { powFast } from "../math/mod.ts";

/** The inputs of `ratioVariance`: the covariance's spectrum as sums, and its age. */
export interface RatioSpectrum {
  /** The absorption ratio. */
  ratio: number;
  /** The covariance's trace. */
  trace: number;
  /** The sum of the squares of the top `n` eigenvalues. */
  topSquares: number;
  /** The sum of the squares of every eigenvalue (the squared Frobenius norm). */
  allSquares: number;
}

/**
 * The effective sample size of `updates` exponential weights of rate `alpha` (the newest weighs
 * alpha, each older one 1 - alpha times the next): (Σw)² / Σw², (2 - alpha) / alpha at length.
 */
export function effectiveBars(alpha: number, updates: number): number {
  const r = 1 - alpha;
  const rk = powFast(r, updates);
  const sum = 1 - rk;
  const squares = alpha * alpha * (1 - rk * rk) / (1 - r * r);
  return squares > 0 ? sum * sum / squares : 0;
}

/** The predicted variance of the ratio (see the module comment); NaN when it is undefined. */
export function ratioVariance(spectrum: RatioSpectrum, effective: number): number {
  const { ratio, trace, topSquares } = spectrum;
  if (!(trace > 0) || !(effective > 0)) return NaN;
  const rest = Math.max(0, spectrum.allSquares - topSquares);
  const q = 1 - ratio;
  return 2 * (q * q * topSquares + ratio * ratio * rest) / (effective * trace * trace);
}
