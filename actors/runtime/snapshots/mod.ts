/**
 * Snapshots of actor instances: the store's interface and its file, NATS KV and memory forms.
 */
export { FileSnapshotStore, type FileSnapshotStoreOptions } from "./file_snapshot_store.ts";
export {
  KvSnapshotStore,
  type KvSnapshotStoreOptions,
  SNAPSHOT_BUCKET,
  type SnapshotSaveOptions,
} from "./kv_snapshot_store.ts";
export { MemorySnapshotStore } from "./memory_snapshot_store.ts";
export {
  checkSnapshot,
  type CorruptSnapshotInfo,
  decodeSnapshot,
  encodeSnapshot,
  escapeStreamName,
  listStreams,
  SerialByKey,
  type Snapshot,
  SnapshotCorruptError,
  type SnapshotStore,
  storedSnapshot,
  type StoredSnapshotPlace,
  StoreSaves,
  unescapeStreamName,
} from "./snapshot_store.ts";
