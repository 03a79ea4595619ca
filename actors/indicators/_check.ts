/**
 * Argument checks shared by the indicators: done once per call, before the loop, so that a bad
 * period is a clear error instead of a series of NaN.
 */

/**
 * Throws a RangeError naming the indicator, the parameter and its value unless it is an integer ≥
 * min.
 */
export function checkPeriod(indicator: string, name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot compute ${indicator}: ${name} must be an integer >= ${min}, got ${value}`,
    );
  }
}

/**
 * Returns `out` when it is as long as `length`, a new array when it is absent; throws otherwise.
 */
export function outputFor(indicator: string, length: number, out?: Float64Array): Float64Array {
  if (out === undefined) return new Float64Array(length);
  if (out.length !== length) {
    throw new RangeError(
      `Cannot compute ${indicator}: the output must hold ${length} values, got ${out.length}`,
    );
  }
  return out;
}

/** Throws unless every column has the same length as the first. */
export function checkSameLength(indicator: string, columns: readonly Float64Array[]): void {
  const n = columns[0]?.length ?? 0;
  for (const c of columns) {
    if (c.length !== n) {
      throw new RangeError(
        `Cannot compute ${indicator}: the input columns differ in length (${n} and ${c.length})`,
      );
    }
  }
}
