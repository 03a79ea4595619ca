/**
 * A benchmark's option is wrong (unknown, out of range, missing its partner): `troupe bench`
 * reports it as a usage error (exit 2). Benchmarks throw this rather than the command line's own
 * error, so that the benchmarks do not depend on the command.
 */
export class BenchOptionError extends Error {
  override name = "BenchOptionError";
}
