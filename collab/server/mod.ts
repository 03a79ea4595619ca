/**
 * The collaboration server: the y-websocket protocol over its rooms (one shared document each,
 * loaded on first use, persisted through the journal and snapshots), presence, the repair of rooms
 * across servers over NATS (anti-entropy), its limits and metrics, and the keyring it signs with.
 */
export { REMOTE_ORIGIN, type Room, type RoomConn, SERVER_ORIGIN } from "./_room.ts";
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
export * from "./collab_limits.ts";
export { CollabMetrics } from "./collab_metrics.ts";
export { CollabServer, type CollabServerOptions } from "./collab_server.ts";
export { DocStore, docStream } from "./doc_store.ts";
export { loadKeyring, type LoadKeyringOptions, SECRET_FILE } from "./secret.ts";
