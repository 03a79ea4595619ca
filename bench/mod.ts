/**
 * The benchmarks' public surface: the contract every `bench/<name>.ts` implements (it exports
 * `benchmark: Benchmark`), the table its rows print as, and the error for a wrong option. The
 * `troupe bench` command loads the benchmarks by name and enters this folder only through here.
 */
export {
  type BenchContext,
  type Benchmark,
  BenchOptionError,
  type BenchRow,
  formatTable,
  row,
  type RowFigures,
} from "./_bench.ts";
