/**
 * Shared sessions: signed session tokens, the session document, and the collaboration server that
 * speaks the y-websocket protocol, persists through the journal, fans out over NATS and bridges
 * threshold changes to the actors.
 */
export {
  type AdmitOptions,
  admitToken,
  canWrite,
  checkSessionName,
  Keyring,
  type MintOptions,
  mintToken,
  parseTtl,
  type Role,
  ROLES,
  type TokenClaims,
  TokenError,
  type TokenFailure,
  type VerifyOptions,
  verifyToken,
} from "./token.ts";
export { loadKeyring, type LoadKeyringOptions, SECRET_FILE } from "./secret.ts";
export {
  type Annotation,
  checkAnnotation,
  checkMetaField,
  checkPanel,
  checkScan,
  checkSettings,
  checkStep,
  DOC_LIMITS,
  fieldError,
  type Panel,
  parseThresholdKey,
  type ScanDefinition,
  SCHEMA_VERSION,
  SessionDoc,
  SessionDocError,
  type SettingValue,
  type Threshold,
  THRESHOLD_FIELDS,
  THRESHOLD_REQUIRED,
  thresholdKey,
  type ThresholdStatus,
  type WorkflowStep,
} from "./session_doc.ts";
export {
  type AckEntry,
  checkAck,
  checkSilence,
  INCIDENT_DOC_VALIDATORS,
  type IncidentAnswerStatus,
  SessionIncidents,
  type SilenceEntry,
  type SilenceInput,
  silenceOfEntry,
} from "./session_incidents.ts";
export { checkUnit, setUnit, UNIT_LIMITS, unitFor, unitsOf } from "./session_units.ts";
export {
  checkChanged,
  type EntryShape,
  fieldsOf,
  listOf,
  mapOf,
  mapOfMaps,
  type RootChanges,
  type RootSchema,
  SESSION_SCHEMA,
  type SharedType,
} from "./session_schema.ts";
export { CollabMetrics } from "./collab_metrics.ts";
export {
  COLLAB_CLOSE_EXPIRED,
  COLLAB_CLOSE_REFUSED,
  COLLAB_CLOSE_SLOW,
  type CollabLimits,
  DEFAULT_COLLAB_LIMITS,
} from "./collab_limits.ts";
export { CollabServer, type CollabServerOptions } from "./collab_server.ts";
export { DocStore, docStream } from "./doc_store.ts";
export {
  AntiEntropy,
  type AntiEntropyOptions,
  decodeDigest,
  type Digest,
  digestOf,
  digestSubject,
  encodeDigest,
  LEGACY_NODE,
  REPAIR_FOR_HEADER,
  repairOrder,
  SPEAKS_HEADER,
} from "./anti_entropy.ts";
export {
  COLLAB_JOURNAL_PREFIX,
  COLLAB_JOURNAL_STREAM,
  COLLAB_SNAPSHOT_BUCKET,
  launchCollab,
  type LaunchCollabOptions,
  type LaunchedCollab,
} from "./launch_collab.ts";
export { REMOTE_ORIGIN, type Room, type RoomConn, SERVER_ORIGIN } from "./_room.ts";
export { attachBridge, type BridgeOptions } from "./bridge.ts";
export { attachIncidentBridge } from "./incident_bridge.ts";
export { replaySessions, SessionReplay, type SessionReplayResult } from "./session_replay.ts";
export {
  compileChannelGlobs,
  filterMatches,
  type StreamFilter,
  subjectChannel,
} from "./stream_filter.ts";
export { checkStreamPattern, STREAM_PREFIXES } from "./stream_pattern.ts";
export {
  StreamClient,
  type StreamClientOptions,
  type StreamSocket,
  type StreamSocketConstructor,
  type StreamStatus,
  type StreamSubscription,
} from "./stream_client.ts";
export {
  DEFAULT_STREAM_LIMITS,
  StreamGateway,
  type StreamGatewayLimits,
  type StreamGatewayOptions,
} from "./stream_gateway.ts";
export { type RingEntry, StreamRing, type StreamRingLimits } from "./stream_ring.ts";
export { SeenSeqs } from "./stream_seen.ts";
export type { StreamStats } from "./stream_metrics.ts";
export {
  type Finding,
  type FindingKind,
  findingKindNames,
  findingsOf,
  findingSubjectOf,
  findingSubjectsOf,
  findingUnit,
  formatFinding,
  isChannelFindingKind,
  lineTime,
  type LineTimeOptions,
  OTHER_FINDING_KINDS,
  severityAtLeast,
  VIEW_WORDS,
} from "./finding.ts";
export {
  ackJson,
  ackMarks,
  formatIncident,
  incidentJson,
  type IncidentLineOptions,
  incidentNews,
  LINE_CHANNELS_MAX,
  LINE_STATES,
  type LineState,
  lineState,
} from "./incident_line.ts";
