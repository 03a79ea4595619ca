/**
 * The session: its shared document (panels, thresholds, scans, workflow, incidents' answers, units)
 * and the schema every write is held to, the signed tokens that admit a client to it, and the
 * settings the hosts report as applied. Nothing here needs Node (a recording's replay, which loads
 * the simulator, is `collab/session_replay.ts`): the page's code imports this room too.
 */
export {
  type AppliedEntry,
  appliedEntry,
  appliedMap,
  hostList,
  mergeReports,
} from "./applied_settings.ts";
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
export { checkUnit, setUnit, UNIT_LIMITS, unitFor, unitsOf } from "./session_units.ts";
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
