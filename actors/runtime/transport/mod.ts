/**
 * The buses a host talks over (NATS and in process), a NATS server for tests and `troupe up`,
 * JetStream publishing and retries, the findings stream, and a stream followed through elections.
 */
export { type StreamAck, streamAckOf, StreamRefusedError } from "./stream_ack.ts";
export { InboxNoRespondersError, InboxRequests, InboxTimeoutError } from "./inbox_requests.ts";
export type { HeaderPairs } from "./_plain_publisher.ts";
export { JETSTREAM_API_PREFIX, jetStreamApi, purgeStream } from "./jetstream_api.ts";
export { directGet, type DirectQuery, type GotMessage } from "./direct_get.ts";
export {
  failRequestsOnDisconnect,
  lostOnDisconnect,
  RequestLostError,
  RequestNotSentError,
} from "./connection_loss.ts";
export {
  type FindingHandler,
  FINDINGS_DUPLICATE_WINDOW_MS,
  FINDINGS_STREAM,
  FINDINGS_STREAM_BYTES_MAX,
  FINDINGS_STREAM_MAX_AGE_MS,
  type FindingSource,
  openFindingsStream,
} from "./findings_stream.ts";
export {
  ACKNOWLEDGED_CLOSE_MS,
  type AcknowledgedCounts,
  AcknowledgedPublishes,
  type AcknowledgedPublishesOptions,
} from "./acknowledged_publishes.ts";
export { BusClosedError, InProcessBus, type InProcessBusOptions } from "./in_process_bus.ts";
export {
  JetStreamPublisher,
  type JetStreamPublisherOptions,
  type PublishCounts,
} from "./jetstream_publisher.ts";
export {
  CONSUMER_CREATE_TIMEOUT_MS,
  ELECTION_BUDGET_MS,
  electionError,
  JetStreamUnavailableError,
  RETRY_BACKOFF_MS_MAX,
  RETRY_BACKOFF_MS_MIN,
  retryJetStream,
  type RetryJetStreamOptions,
} from "./jetstream_retry.ts";
export {
  keepLeadersPlaced,
  type LeaderMove,
  type LeaderPlacement,
  META_LEADER_TIMEOUT_MS,
  metaLeader,
  placeLeaders,
  PLACEMENT_EVERY_MS,
} from "./leader_placement.ts";
export {
  HOST_OUTBOUND_FLUSH_BYTES,
  NATS_CONNECT_TIMEOUT_MS,
  NATS_PING_INTERVAL_MS,
  NatsBus,
  type NatsBusOptions,
  type NatsConnectionState,
  natsServerList,
} from "./nats_bus.ts";
export {
  describeNatsAuth,
  hasNatsAuth,
  mergeNatsAuth,
  NATS_AUTH_ENV,
  NATS_AUTH_FIELDS,
  type NatsAuth,
  NatsAuthError,
  natsAuthFromEnv,
  natsAuthOptions,
  redactNatsUrl,
  splitNatsUrl,
} from "./nats_auth.ts";
export {
  NATS_ROLE_PERMISSIONS,
  NATS_ROLES,
  natsAuthorizationConfig,
  type NatsPermissions,
  type NatsRole,
  natsRolesMarkdown,
  type NatsUserCredential,
} from "./nats_roles.ts";
export { NATS_AUTH_DIR, roleSeedPath } from "./role_seed_path.ts";
export { ensureDir, findNatsServer, NatsServer, type NatsServerOptions } from "./nats_server.ts";
export { freePort } from "./free_port.ts";
export { type FanOut, fanOut, type QueueMember } from "./queue_groups.ts";
export {
  type SequencedMessage,
  StreamFollower,
  type StreamFollowerOptions,
} from "./stream_follower.ts";
export { ignoreErrorsAfterDestroy } from "./destroyed_socket_errors.ts";
