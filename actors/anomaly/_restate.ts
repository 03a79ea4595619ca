/**
 * A finding restated at a stronger sample of its excursion: an incident opens at the first sample
 * scoring high, which a fault that begins within a sample's interval only partly moves (a scrape
 * straddling the onset reads a quarter of the load the next ones read), and every later sample is
 * read against an expected value and a σ the excursion itself has moved. So for `restate_us` after
 * the opening, each sample is also read against the reference the opening was read against (its
 * expected value and each side's σ, from before the sample that opened it), and a sample that
 * states at least one bit more than the finding so far restates it (docs/methods/anomaly.md,
 * "A finding restated").
 *
 * The bits a restatement states are one fewer than its distance's (its σ widened by √2): a sample
 * of an open incident is tested twice, against the running reference and the held one, so the
 * union bound of the page budget, one test per sample, counts at most twice the tests (two
 * Chebyshev bounds at one sample: twice the probability). Private to the anomaly folder.
 */
import * as S from "./_state.ts";

/** The σ a restatement states over its held σ: two tests at a sample, one bit. */
export const RESTATE_SIGMA_FACTOR = Math.SQRT2;

/**
 * Holds the reference of the finding that opened at time `t` (µs), value `x`: its expected value,
 * each side's σ, and its squared distance in the σ of its side (what it stated).
 */
export function holdReference(
  s: Float64Array,
  t: number,
  x: number,
  expected: number,
  sigmaUp: number,
  sigmaDown: number,
): void {
  s[S.HELD_EXPECTED] = expected;
  s[S.HELD_SIGMA_UP] = sigmaUp;
  s[S.HELD_SIGMA_DOWN] = sigmaDown;
  s[S.HELD_UNTIL] = t + s[S.RESTATE_US]!;
  const d = (x - expected) / (x >= expected ? sigmaUp : sigmaDown);
  s[S.HELD_SQUARED] = d * d;
}

/**
 * The σ a restatement at value `x`, time `t` (µs) states, or NaN when there is none: past the
 * hold, within one bit of the finding so far, or without a held σ. A restatement becomes the
 * finding so far.
 */
export function restatedSigma(s: Float64Array, t: number, x: number): number {
  if (!(t <= s[S.HELD_UNTIL]!)) return NaN;
  const expected = s[S.HELD_EXPECTED]!;
  const sigma = RESTATE_SIGMA_FACTOR *
    (x >= expected ? s[S.HELD_SIGMA_UP]! : s[S.HELD_SIGMA_DOWN]!);
  if (!(sigma > 0)) return NaN;
  const d = (x - expected) / sigma, squared = d * d;
  // One bit more: twice the squared distance (Chebyshev's bits are log2 of it).
  if (!(squared > 1 && squared >= 2 * s[S.HELD_SQUARED]!)) return NaN;
  s[S.HELD_SQUARED] = squared;
  return sigma;
}
