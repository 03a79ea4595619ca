/** Snapshots of actor instances kept in a NATS KV bucket, where any host can load them. */
export {
  KvSnapshotStore,
  type KvSnapshotStoreOptions,
  SNAPSHOT_BUCKET,
  type SnapshotSaveOptions,
} from "./kv_snapshot_store.ts";
