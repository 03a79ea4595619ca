/**
 * The error a benchmark throws when the data it was pointed at cannot be used: `troupe bench`
 * says its message alone and exits 1, never with a stack.
 */

/**
 * The data a benchmark was pointed at cannot be used (a corpus file that does not parse, a label
 * that matches no row).
 */
export class BenchDataError extends Error {
  override name = "BenchDataError";
}
