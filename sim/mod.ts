/**
 * Deterministic simulation, feeds, recording and replay: the seeded PRNG and clocks, the feed
 * generators and injector, the recording format, replay, and the whole-cluster simulator.
 */
export * from "./prng/mod.ts";
export * from "./clock.ts";
export * from "./feeds/mod.ts";
export * from "./recording/mod.ts";
export {
  type ClusterShape,
  drawFaultParams,
  FAULT_KINDS,
  type FaultKind,
  type FaultParams,
  type FaultSet,
  type FaultSpec,
  parseFaults,
  seedShape,
} from "./faults.ts";
export { reproduceCommand, simulate } from "./simulator.ts";
export { traceDivergence } from "./trace_divergence.ts";
export {
  type SeedOutcome,
  seedPassed,
  simulateSeeds,
  type SimulateSeedsOptions,
} from "./simulate_seeds.ts";
export {
  leaseTotals,
  type SimLeaseTotals,
  simSummary,
  type SimSummaryOptions,
} from "./sim_summary.ts";
export { replayReport } from "./replay_report.ts";
export { whatIfReport } from "./what_if_report.ts";
export { type MetricsSettingsResult, sendMetricsSettings } from "./metrics_settings.ts";
export { writeTrace } from "./write_trace.ts";
export { SIM_YOUNG_GENERATION_MB, simulateOnThread } from "./simulator_thread.ts";
export type { Sabotage, SimOptions, SimResult, SimStats } from "./simulator.ts";
export { SimBus } from "./sim_bus.ts";
export { Scheduler } from "./scheduler.ts";
export {
  DEMO_CRASH_RATE,
  demoActorConfigs,
  describeDemo,
  describeMetricsSettings,
  metricsActorConfigs,
} from "./demo.ts";
export { createUpFeed, type UpFeedSettings } from "./up_feed.ts";
