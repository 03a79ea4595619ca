/**
 * Snapshots in the NATS key-value store (bucket `troupe_snapshots`, file storage, one revision
 * kept), so that a host taking over another's partitions finds their snapshots. A stream's key is
 * its escaped name (`stats/BTC-USD` -> `stats=2FBTC-USD`, see `escapeStreamName`).
 *
 * The server refuses messages over its max payload (1 MiB by default), which a kernel's state can
 * exceed. A snapshot that does not fit in one value is split: its chunks go under
 * `<key>.<generation>.<i>`, then the key gets a small manifest `TRPC` + msgpack
 * `{ gen, chunks, bytes }`, then the previous generation's chunks are purged. A crash part-way
 * leaves the previous manifest and its chunks intact, so a load sees the old snapshot or the new
 * one. Snapshots over `snapshotBytesMax` are refused with an error naming the size.
 *
 * Every call waits out a cluster's leader election (jetstream_retry.ts); the compare-and-set that
 * replaces a snapshot is not sent again after a timeout (it may have been stored): that save fails,
 * and the next one reads the key again. No call needs the cluster's meta leader (which a partition
 * taken over at a node's loss would wait for through its election): reads are direct gets, writes
 * go to the bucket's stream leader, and the keys are listed from the stream's per-subject counts,
 * not by a consumer (`kv.keys()` makes one, and nats-server makes consumers through the meta
 * leader only).
 */
import { type JetStreamManager, jetstreamManager, PubHeaders } from "@nats-io/jetstream";
import { type Bucket, type KV, Kvm } from "@nats-io/kv";
import { type NatsConnection, nuid } from "@nats-io/transport-node";
import { decodeValue, encodeValue } from "../../../../protocol/mod.ts";
import {
  type CorruptSnapshotInfo,
  encodeSnapshot,
  escapeStreamName,
  listStreams,
  type Snapshot,
  type SnapshotStore,
  storedSnapshot,
  StoreSaves,
} from "../snapshot_store.ts";
import {
  directGet,
  ELECTION_BUDGET_MS,
  InboxRequests,
  retryJetStream,
  streamAckOf,
} from "../../transport/mod.ts";

/** The bucket snapshots are kept in, by default. */
export const SNAPSHOT_BUCKET = "troupe_snapshots";

/** Options of `KvSnapshotStore.open`. */
export interface KvSnapshotStoreOptions {
  /** The key-value bucket: `troupe_snapshots`. Created when missing. */
  bucket?: string;
  /** Called when a stored snapshot cannot be loaded; `load` then returns undefined. */
  onCorrupt?(info: CorruptSnapshotInfo): void;
  /** The largest snapshot stored, in bytes: 64 MiB. */
  snapshotBytesMax?: number;
  /** Bytes per chunk: the server's max payload less 64 KiB (for headers and the subject). */
  chunkBytes?: number;
  /** How long one call waits out a cluster's leader election, ms: ELECTION_BUDGET_MS. */
  electionBudgetMs?: number;
  /** The bucket's replicas when it is created (`nats.replicas`): 1. */
  replicas?: number;
}

const MANIFEST_MAGIC = [0x54, 0x52, 0x50, 0x43]; // "TRPC"

interface Manifest {
  gen: string;
  chunks: number;
  bytes: number;
}

/** A key's last value as the bucket holds it: a put, or a delete's or a purge's marker. */
interface KeyEntry {
  operation: string;
  revision: number;
  value: Uint8Array;
}

/** The timeout of a snapshot's replacement, ms: nats.js's for a JetStream publish. */
const REPLACE_TIMEOUT_MS = 5000;

/** A SnapshotStore over a NATS key-value bucket. */
export class KvSnapshotStore implements SnapshotStore {
  readonly bucket: string;
  #kv: KV;
  readonly #jsm: JetStreamManager;
  #onCorrupt: ((info: CorruptSnapshotInfo) => void) | undefined;
  #snapshotBytesMax: number;
  #chunkBytes: number;
  #budgetMs: number;
  readonly #saves: StoreSaves;
  /**
   * A save's read of the key and its replacement, answered on an inbox of the store's own: not
   * nats.js's requests, which make two errors with stack traces each (inbox_requests.ts), and a
   * start saves a snapshot for each instance it replayed.
   */
  readonly #requests: InboxRequests;

  private constructor(
    nc: NatsConnection,
    kv: KV,
    jsm: JetStreamManager,
    bucket: string,
    options: KvSnapshotStoreOptions,
    chunkBytes: number,
  ) {
    this.#kv = kv;
    this.#jsm = jsm;
    this.bucket = bucket;
    this.#onCorrupt = options.onCorrupt;
    this.#snapshotBytesMax = options.snapshotBytesMax ?? 64 << 20;
    this.#chunkBytes = chunkBytes;
    this.#budgetMs = options.electionBudgetMs ?? ELECTION_BUDGET_MS;
    this.#saves = new StoreSaves(`in bucket ${bucket}`);
    this.#requests = new InboxRequests(nc);
  }

  /** Opens the store, creating the bucket (file storage, history 1) when it does not exist. */
  static async open(
    nc: NatsConnection,
    options: KvSnapshotStoreOptions = {},
  ): Promise<KvSnapshotStore> {
    const bucket = options.bucket ?? SNAPSHOT_BUCKET;
    const kv = await retryJetStream(
      `open the snapshot bucket ${bucket}`,
      () => new Kvm(nc).create(bucket, { history: 1, replicas: options.replicas ?? 1 }),
      { budgetMs: options.electionBudgetMs ?? ELECTION_BUDGET_MS, repeatable: true },
    );
    const maxPayload = nc.info?.max_payload ?? 1 << 20;
    const chunkBytes = options.chunkBytes ?? Math.max(4096, maxPayload - (64 << 10));
    if (chunkBytes > maxPayload) {
      throw new RangeError(
        `KvSnapshotStore option "chunkBytes" must be at most the server's max payload of ` +
          `${maxPayload} bytes, got ${chunkBytes}`,
      );
    }
    // Without the account's info asked first (a request the meta leader answers).
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    return new KvSnapshotStore(nc, kv, jsm, bucket, options, chunkBytes);
  }

  /**
   * Replaces the stream's snapshot; saves of one stream land in call order. The replacement is a
   * compare-and-set on the key's revision read just before, and `options.guard` (a partition's
   * lease fence) is asked right before it is sent: a writer that lost its partition while the
   * save waited does not overwrite the new owner's newer snapshot.
   */
  save(snapshot: Snapshot, options: SnapshotSaveOptions = {}): Promise<void> {
    this.#saves.check();
    const bytes = encodeSnapshot(snapshot);
    if (bytes.length > this.#snapshotBytesMax) {
      return Promise.reject(
        new RangeError(
          `Cannot save the snapshot of stream "${snapshot.stream}": ${bytes.length} bytes is ` +
            `over the limit of ${this.#snapshotBytesMax} bytes`,
        ),
      );
    }
    const key = escapeStreamName(snapshot.stream);
    return this.#saves.run(snapshot.stream, () => this.#write(key, bytes, options.guard));
  }

  /** The stream's snapshot, or undefined when there is none or it is damaged (reported). */
  async load(stream: string): Promise<Snapshot | undefined> {
    this.#saves.check();
    const key = escapeStreamName(stream);
    const entry = await this.#retry(`read ${key}`, () => this.#get(key));
    if (!entry || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    const read = () => {
      const manifest = readManifest(entry.value);
      return manifest ? this.#readChunks(key, manifest) : entry.value;
    };
    const where = `${this.bucket}/${key}`;
    return await storedSnapshot(stream, read, { where, holder: "key", onCorrupt: this.#onCorrupt });
  }

  /**
   * The streams with a snapshot in the bucket: the keys the bucket's stream holds a message for,
   * as its leader counts them by subject. A key deleted by hand (never by troupe: it replaces
   * snapshots and purges only chunks) is listed too; its load finds no snapshot.
   */
  async list(): Promise<string[]> {
    this.#saves.check();
    const prefix = `$KV.${this.bucket}.`;
    const subjects = await this.#retry(`list the keys of ${this.bucket}`, async () => {
      const info = await this.#jsm.streams.info(`KV_${this.bucket}`, {
        subjects_filter: `${prefix}>`,
      });
      return Object.keys(info.state.subjects ?? {});
    });
    // A key with a dot is a chunk of a large snapshot.
    return listStreams(subjects, (subject) => {
      const key = subject.slice(prefix.length);
      return key.includes(".") ? undefined : key;
    });
  }

  /**
   * `call`, waiting out a cluster's leader election; `repeatable` when a timeout may be retried.
   */
  #retry<T>(what: string, call: () => Promise<T>, repeatable = true): Promise<T> {
    return retryJetStream(what, call, { budgetMs: this.#budgetMs, repeatable });
  }

  /** Waits for saves in progress, then refuses further use; the connection stays open. */
  async close(): Promise<void> {
    await this.#saves.close();
    this.#requests.close();
  }

  /**
   * The key's last entry, or null: a direct get on the store's inbox where the bucket allows
   * them (as nats.js's `get` would send it), else nats.js's `get`.
   */
  async #get(key: string): Promise<KeyEntry | null> {
    const b = this.#kv as Bucket;
    if (!b.direct) return await this.#kv.get(key);
    const msg = await directGet(this.#requests, b.bucketName(), {
      last_by_subj: b.subjectForKey(key),
    });
    if (!msg) return null;
    return {
      operation: msg.header?.get("KV-Operation") || "PUT",
      revision: msg.seq,
      value: msg.data,
    };
  }

  /**
   * Puts `value` under `key` if its last entry is still `old` (none: no entry), as nats.js's
   * `update` and `create` would (a publish expecting the subject's last sequence), on the store's
   * inbox. A delete's or purge's marker is replaced as an entry.
   */
  async #compareAndSet(key: string, value: Uint8Array, old: KeyEntry | null): Promise<void> {
    const b = this.#kv as Bucket;
    const h = [[PubHeaders.ExpectedLastSubjectSequenceHdr, String(old?.revision ?? 0)]] as const;
    const subject = b.subjectForKey(key, true);
    streamAckOf((await this.#requests.request(subject, value, REPLACE_TIMEOUT_MS, h)).data);
  }

  async #write(
    key: string,
    bytes: Uint8Array,
    guard: (() => Error | undefined) | undefined,
  ): Promise<void> {
    const old = await this.#retry(`read ${key}`, () => this.#get(key));
    const replace = (value: Uint8Array) =>
      this.#retry(`replace the snapshot ${key}`, () => {
        const refused = guard?.();
        if (refused) throw refused;
        return this.#compareAndSet(key, value, old);
      }, false);
    let oldManifest: Manifest | undefined;
    try {
      oldManifest = old?.operation === "PUT" ? readManifest(old.value) : undefined;
    } catch {
      oldManifest = undefined; // a damaged manifest: its chunks cannot be found, so stay
    }
    if (bytes.length <= this.#chunkBytes) {
      await replace(bytes);
    } else {
      const manifest: Manifest = {
        gen: nuid.next(),
        chunks: Math.ceil(bytes.length / this.#chunkBytes),
        bytes: bytes.length,
      };
      const puts: Promise<number>[] = [];
      for (let i = 0; i < manifest.chunks; i++) {
        const chunk = bytes.subarray(i * this.#chunkBytes, (i + 1) * this.#chunkBytes);
        const at = chunkKey(key, manifest.gen, i);
        puts.push(this.#retry(`write ${at}`, () => this.#kv.put(at, chunk)));
      }
      await Promise.all(puts);
      const body = encodeValue(manifest);
      const value = new Uint8Array(MANIFEST_MAGIC.length + body.length);
      value.set(MANIFEST_MAGIC, 0);
      value.set(body, MANIFEST_MAGIC.length);
      await replace(value);
    }
    if (oldManifest) {
      const purges: Promise<void>[] = [];
      for (let i = 0; i < oldManifest.chunks; i++) {
        const at = chunkKey(key, oldManifest.gen, i);
        purges.push(this.#retry(`purge ${at}`, () => this.#kv.purge(at)));
      }
      await Promise.all(purges);
    }
  }

  async #readChunks(key: string, manifest: Manifest): Promise<Uint8Array> {
    const entries = await Promise.all(
      Array.from(
        { length: manifest.chunks },
        (_, i) =>
          this.#retry(`read a chunk of ${key}`, () => this.#kv.get(chunkKey(key, manifest.gen, i))),
      ),
    );
    const out = new Uint8Array(manifest.bytes);
    let at = 0;
    for (const [i, e] of entries.entries()) {
      if (!e || e.operation !== "PUT") {
        throw new Error(`chunk ${i} of ${manifest.chunks} (generation ${manifest.gen}) is missing`);
      }
      if (at + e.value.length > out.length) {
        throw new Error(`chunks hold more than the manifest's ${manifest.bytes} bytes`);
      }
      out.set(e.value, at);
      at += e.value.length;
    }
    if (at !== manifest.bytes) {
      throw new Error(`chunks hold ${at} bytes, the manifest says ${manifest.bytes}`);
    }
    return out;
  }
}

/** Options of `KvSnapshotStore.save`. */
export interface SnapshotSaveOptions {
  /** Asked right before the snapshot replaces the stored one: an error refuses the save. */
  guard?: () => Error | undefined;
}

function chunkKey(key: string, gen: string, i: number): string {
  return `${key}.${gen}.${i}`;
}

/** The manifest in a key's value, or undefined when the value is a whole snapshot. */
function readManifest(value: Uint8Array): Manifest | undefined {
  if (value.length < 4 || MANIFEST_MAGIC.some((b, i) => value[i] !== b)) return undefined;
  const m = decodeValue(value.subarray(MANIFEST_MAGIC.length)) as Partial<Manifest> | null;
  if (
    !m || typeof m.gen !== "string" || !/^[A-Za-z0-9]+$/.test(m.gen) ||
    !Number.isSafeInteger(m.chunks) || !Number.isSafeInteger(m.bytes) || m.chunks! < 1
  ) {
    throw new Error("the chunk manifest is damaged");
  }
  return m as Manifest;
}
