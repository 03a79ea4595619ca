/**
 * Crossings of two series: `a` crosses above `b` at i when a was at or below b at i − 1 and is
 * above it at i (and the mirror for below). The scalar forms are what the criteria evaluator uses;
 * the column forms give 1, 0, or NaN where a value is missing.
 */
import { checkSameLength, outputFor } from "./_check.ts";

/** Whether a crossed above b between the previous and the current values. */
export function crossesAbove(aPrev: number, bPrev: number, a: number, b: number): boolean {
  return aPrev <= bPrev && a > b;
}

/** Whether a crossed below b between the previous and the current values. */
export function crossesBelow(aPrev: number, bPrev: number, a: number, b: number): boolean {
  return aPrev >= bPrev && a < b;
}

/** Options of the column forms. */
export interface CrossesOptions {
  /** Where to write (as long as the inputs); a new array when absent. */
  out?: Float64Array;
}

/** Per value, 1 where `a` crosses above `b`, 0 where not, NaN where a value is missing. */
export function crossesAboveSeries(
  pair: { a: Float64Array; b: Float64Array },
  options: CrossesOptions = {},
): Float64Array {
  return crossSeries(pair, options, crossesAbove, "crosses_above");
}

/** Per value, 1 where `a` crosses below `b`, 0 where not, NaN where a value is missing. */
export function crossesBelowSeries(
  pair: { a: Float64Array; b: Float64Array },
  options: CrossesOptions = {},
): Float64Array {
  return crossSeries(pair, options, crossesBelow, "crosses_below");
}

function crossSeries(
  { a, b }: { a: Float64Array; b: Float64Array },
  options: CrossesOptions,
  cross: (aPrev: number, bPrev: number, a: number, b: number) => boolean,
  name: string,
): Float64Array {
  checkSameLength(name, [a, b]);
  const n = a.length;
  const out = outputFor(name, n, options.out);
  if (n > 0) out[0] = NaN;
  for (let i = 1; i < n; i++) {
    const ap = a[i - 1]!, bp = b[i - 1]!, ac = a[i]!, bc = b[i]!;
    out[i] = ap !== ap || bp !== bp || ac !== ac || bc !== bc ? NaN : cross(ap, bp, ac, bc) ? 1 : 0;
  }
  return out;
}
