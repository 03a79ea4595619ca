/**
 * The check of a number given as text, a command's or a benchmark's option: the one check behind
 * the commands' `num` (cli/args.ts) and the benchmarks' option tables (bench/_option_table.ts),
 * here where both may import it, beside the configuration's own readers and the bounds they share.
 */
import type { NumberBounds } from "./config_error.ts";

/** Makes the error of a bad option (a benchmark's BenchOptionError, a command's UsageError). */
export type OptionErrorFactory = (message: string) => Error;

/**
 * The number in `raw`, option `--name`'s text, checked against `bounds`; the error, made by
 * `makeError`, names the option, what it must be and the value.
 */
export function checkNumber(
  name: string,
  raw: string,
  bounds: NumberBounds,
  makeError: OptionErrorFactory,
): number {
  const value = Number(raw);
  const bad = (why: string) => makeError(`Option --${name} ${why}, got "${raw}"`);
  if (raw.trim() === "" || !Number.isFinite(value)) throw bad("must be a number");
  if (bounds.integer && !Number.isInteger(value)) throw bad("must be a whole number");
  if (bounds.min !== undefined) {
    if (bounds.exclusiveMin ? value <= bounds.min : value < bounds.min) {
      throw bad(`must be ${bounds.exclusiveMin ? ">" : ">="} ${bounds.min}`);
    }
  }
  if (bounds.max !== undefined && value > bounds.max) throw bad(`must be <= ${bounds.max}`);
  return value;
}
