/**
 * Running a cluster: its hosts (in this thread, on threads, or by lease), the incident stage
 * beside them and the metrics receiver, started from one configuration and stopped as one; the
 * kinds it runs, troupe's own and a team's, and the module its worker threads load them from.
 */
export {
  type ClusterStageStarts,
  ClusterStartError,
  type LeasedConfig,
  type StageRegistry,
  startCluster,
  type StartClusterOptions,
} from "./start_cluster.ts";
export {
  CLUSTER_CLOSE_MS,
  type ClusterStage,
  type RunningCluster,
  type StartedHosts,
} from "./running_cluster.ts";
export { type ReceiverPlace, type StartedReceiver, startReceiver } from "./start_receiver.ts";
export { pasteBlock } from "./paste_block.ts";
export { BUILT_IN_KINDS, type HostKinds, hostKinds, kindSpecsOf } from "./host_kinds.ts";
export { kindsModuleText, kindsModuleUrl, teamKindsOf, teamOf } from "./kinds_module_file.ts";
