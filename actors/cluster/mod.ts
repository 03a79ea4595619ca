/**
 * Running a cluster: its hosts (in this thread, on threads, or by lease), the incident stage
 * (on partition 0's host or under its lease, with its alerting) and the metrics receiver, started
 * from one configuration and stopped as one; the kinds it runs, troupe's own and a team's, and
 * the module its worker threads load them from; on one machine, the nats-server it starts (its
 * users per role, a left server stopped first), the well-known ports its parts take when they
 * are free, the lock that keeps one cluster per data directory, troupe up's preset of it, its
 * metrics receiver and its host's status.
 */
export { ClusterStartError, startCluster, type StartClusterOptions } from "./start_cluster.ts";
export {
  type ClusterStageStarts,
  incidentStageStarts,
  type IncidentStageStartsOptions,
  type LeasedConfig,
  type StageRegistry,
} from "./cluster_stage_starts.ts";
export {
  type ClusterIncidents,
  type ClusterIncidentsOptions,
  INCIDENT_STAGE_DIR,
  INCIDENT_STAGE_PARTITION,
  incidentConfigOf,
  startJournaledIncidents,
} from "./cluster_incidents.ts";
export { alertingConfigOf } from "./stage_alerting.ts";
export {
  CLUSTER_CLOSE_MS,
  type ClusterStage,
  type RunningCluster,
  type StartedHosts,
} from "./running_cluster.ts";
export { type ReceiverPlace, type StartedReceiver, startReceiver } from "./start_receiver.ts";
export { pasteBlock } from "./paste_block.ts";
export { type FeedLeft, feedTaken, type FeedTakenOptions } from "./feed_taken.ts";
export { receiverLines } from "./receiver_lines.ts";
export {
  UP_RECEIVER_PORT,
  UP_RECEIVER_TOKEN_FILE,
  upReceiver,
  type UpReceiverSettings,
  upReceiverToken,
} from "./up_receiver.ts";
export { BUILT_IN_KINDS, type HostKinds, hostKinds, kindSpecsOf } from "./kinds/mod.ts";
export { kindsModuleText, kindsModuleUrl, teamKindsOf, teamOf } from "./kinds/mod.ts";
export { type LocalNats, type LocalNatsOptions, NATS_PORT, startLocalNats } from "./local_nats.ts";
export { NATS_PID_FILE, removeNatsPid, stopLeftNats, writeNatsPid } from "./nats_pid_file.ts";
export { type NatsRoleUsers, writeNatsRoleUsers } from "./nats_role_users.ts";
export { NATS_SERVER_ENV, natsServerBinary, whyNoNatsServer } from "./nats_server_binary.ts";
export { onPreferredPort, portOr } from "./preferred_port.ts";
export { lockDataDir } from "./data_dir_lock.ts";
export { type HostSetup, loadHostConfig } from "./host_config_file.ts";
export {
  startUpCluster,
  upClusterLines,
  type UpClusterOptions,
  type UpHosts,
  upHostsOf,
  upThreads,
} from "./up_cluster.ts";
export { upHostConfig, type UpHostPlace, type UpHostSettings } from "./up_host_config.ts";
export { type UnleasedHostStatus, unleasedHostStatus } from "./unleased_host_status.ts";
