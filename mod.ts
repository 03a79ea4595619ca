/**
 * troupe as a library: what a team writes its own actor kinds with, and what embeds a host.
 *
 * ```ts
 * import { defineKind } from "troupe";
 * export default defineKind({ kind: "zscore", version: 1, config, kernel, findings });
 * ```
 *
 * A kind defined here runs in `troupe run --config host.json` (`"kinds": ["./zscore.ts"]`) beside
 * troupe's own, with journaling, replay, simulation, threads, leases and incidents. The test kit is
 * `troupe/testing`. docs/write_your_own_actor.md walks through it; docs/library.md is the
 * reference.
 */
export {
  type BooleanField,
  type ConfigField,
  type ConfigOf,
  type ConfigSchema,
  defaultConfigOf,
  defineKind,
  type Finding,
  type KindKernel,
  kindRegistry,
  type KindSpec,
  type NamesField,
  type NumberField,
  parseConfigOf,
  registerKind,
  sampleRandom,
  type StepContext,
  type StepOutput,
  type StringField,
} from "./actors/kind/mod.ts";
export {
  ACTOR_KINDS,
  anomalyActor,
  barsActor,
  coherenceActor,
  collapseActor,
  statsActor,
} from "./actors/mod.ts";
export {
  type ActorDefinition,
  type AnyActorDefinition,
  type Bus,
  type ColumnsFrame,
  ConfigError,
  type ConfigEvent,
  decodeEnvelope,
  type Envelope,
  type FindingKind,
  findingKinds,
  type Kernel,
  ProtocolError,
  type SampleFrame,
  type TickEvent,
} from "./protocol/mod.ts";
export {
  defaultHostConfig,
  type HostConfig,
  InProcessBus,
  launchHost,
  NatsBus,
  parseHostConfig,
} from "./actors/runtime/mod.ts";
export {
  CLUSTER_CLOSE_MS,
  type ClusterStage,
  type ClusterStageStarts,
  ClusterStartError,
  incidentStageStarts,
  type IncidentStageStartsOptions,
  type RunningCluster,
  startCluster,
  type StartClusterOptions,
} from "./actors/cluster/mod.ts";
