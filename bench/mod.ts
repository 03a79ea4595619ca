/**
 * The benchmarks' public surface: the contract every `bench/<name>.ts` implements (it exports
 * `benchmark: Benchmark`), the table its rows print as, the error for a wrong option, and the
 * benchmarks by name. The `troupe bench` command enters this folder only through here; each
 * benchmark is imported when it is asked for, by a literal import the layout test checks (a
 * computed one hid which modules the shipped CLI may load).
 */
import type { Benchmark } from "./_bench.ts";
export {
  optionsUsage,
  type OptionTable,
  type OptionValues,
  readOptions,
  type TableOption,
} from "./_option_table.ts";
export {
  type BenchContext,
  type Benchmark,
  type BenchRow,
  formatTable,
  row,
  type RowFigures,
} from "./_bench.ts";
export { BenchOptionError } from "./_bench_option_error.ts";
export { BenchDataError } from "./_bench_data_error.ts";
export { BenchHaltError } from "./_bench_halt_error.ts";

/** A benchmark's module. */
export interface BenchmarkModule {
  benchmark: Benchmark;
}

/** Every benchmark, by name: its module, loaded when it runs (or is listed). */
export const BENCHMARKS: Readonly<Record<string, () => Promise<BenchmarkModule>>> = {
  alerting: () => import("./alerting.ts"),
  anomaly: () => import("./anomaly.ts"),
  "channel-bytes": () => import("./channel_bytes.ts"),
  codec: () => import("./codec.ts"),
  coherence: () => import("./coherence.ts"),
  collab: () => import("./collab.ts"),
  collapse: () => import("./collapse.ts"),
  cpd: () => import("./cpd.ts"),
  crc32: () => import("./crc32.ts"),
  dashboard: () => import("./dashboard.ts"),
  detect: () => import("./detect.ts"),
  evidence: () => import("./evidence.ts"),
  failover: () => import("./failover.ts"),
  fleet: () => import("./fleet.ts"),
  gateway: () => import("./gateway.ts"),
  history: () => import("./history.ts"),
  incidents: () => import("./incidents.ts"),
  inject: () => import("./inject.ts"),
  join: () => import("./join.ts"),
  "kernel-bytes": () => import("./kernel_bytes.ts"),
  latency: () => import("./latency.ts"),
  nab: () => import("./nab.ts"),
  nats_cluster: () => import("./nats_cluster.ts"),
  nats_roles: () => import("./nats_roles.ts"),
  pages: () => import("./pages.ts"),
  pipeline: () => import("./pipeline.ts"),
  recovery: () => import("./recovery.ts"),
  "remote-write": () => import("./remote_write.ts"),
  replay: () => import("./replay.ts"),
  rescore: () => import("./rescore.ts"),
  scan: () => import("./scan.ts"),
  sim: () => import("./sim.ts"),
  sim_seeds: () => import("./sim_seeds.ts"),
  soak: () => import("./soak.ts"),
  tail: () => import("./tail.ts"),
  warm: () => import("./warm.ts"),
};
