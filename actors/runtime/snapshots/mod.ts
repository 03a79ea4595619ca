/**
 * Snapshots of actor instances: the store's interface and its packed, file and memory forms. The
 * NATS KV form, which loads the NATS clients, is entered through kv/mod.ts.
 */
export { FileSnapshotStore, type FileSnapshotStoreOptions } from "./file_snapshot_store.ts";
export { MemorySnapshotStore } from "./memory_snapshot_store.ts";
export {
  PACKED_BATCHES_IN_FLIGHT,
  PACKED_SAVES_IN_FLIGHT,
  PackedSnapshotStore,
  type PackedSnapshotStoreOptions,
  SEGMENT_BYTES_MAX,
} from "./packed_snapshot_store.ts";
export {
  checkSnapshot,
  type CorruptSnapshotInfo,
  decodeSnapshot,
  decodeSnapshotBody,
  encodeSnapshot,
  escapeStreamName,
  HELD,
  HELD_NOW,
  listStreams,
  SerialByKey,
  type Snapshot,
  type SnapshotBatch,
  SnapshotCorruptError,
  type SnapshotHead,
  snapshotIntact,
  type SnapshotStore,
  storedSnapshot,
  type StoredSnapshotPlace,
  StoreSaves,
  unescapeStreamName,
} from "./snapshot_store.ts";
export { readSnapshotHead } from "./snapshot_head.ts";
