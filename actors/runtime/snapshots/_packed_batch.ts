/**
 * The packed store's batches (`SnapshotBatch`): snapshots encoded, as they are added, straight
 * into records in chunks of memory the store reuses from batch to batch. A stop of 100,000
 * instances saves them all a batch at a time: taken one by one and encoded at once, a snapshot's
 * objects (its machine state, its kernel's bytes) are let go before the next is taken, rather
 * than held until its batch is written; and its record is written from a chunk an earlier batch
 * wrote, not from an array buffer of its own. Held until written, either would live long enough
 * to be promoted, and each full collection would then mark every instance of the host again.
 */
import {
  encodeSnapshotBodyView,
  putSnapshotHeader,
  type Snapshot,
  SNAPSHOT_HEADER_BYTES,
  type SnapshotBatch,
  storedCrc,
} from "./snapshot_store.ts";
import {
  putRecordHead,
  RECORD_HEAD,
  type RecordEntry,
  type RecordGroup,
  recordNameLength,
} from "./_packed_record.ts";
import { hintOf, SEGMENT_BYTES_MAX } from "./_packed_segment.ts";

/**
 * Saves a snapshotter has in flight with the packed store: written a batch at a time, one write
 * and one fsync each, so a stop's thousands go in batches of this many (16 MiB at 8 KiB a
 * snapshot).
 */
export const PACKED_SAVES_IN_FLIGHT = 2048;

/**
 * A stop's batches given the packed store's writer at once: a segment's bytes of them at 8 KiB a
 * snapshot. The writer takes what waits, up to a segment's bytes, in one write and one fsync; with
 * one batch waiting at a time, a stop paid the disk's sync for every batch. A fleet's channels in
 * their first hours save some 3 KiB an instance, so four are fewer bytes; more in flight did not
 * shorten such a stop, whose main thread is then the bound (docs/stop_and_start_disk.md).
 */
export const PACKED_BATCHES_IN_FLIGHT = SEGMENT_BYTES_MAX / (PACKED_SAVES_IN_FLIGHT * 8 * 1024);

/** A chunk's bytes: records are laid in chunks of this size (one larger is a chunk of its own). */
export const CHUNK_BYTES = 1 << 20;

/**
 * Chunks a pool keeps between batches, at most: five batches of the packed store's 2,048
 * snapshots of ~9 KiB (a stop's four written while the next is taken) and some room.
 */
export const POOL_CHUNKS_MAX = 96;

/** Chunks let go by written batches, handed to the next. */
export class ChunkPool {
  readonly #free: Uint8Array[] = [];

  /** A chunk of `CHUNK_BYTES`, a kept one when there is one. */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(CHUNK_BYTES);
  }

  /** Keeps `chunks` for later batches (up to `POOL_CHUNKS_MAX`; others are let go). */
  give(chunks: readonly Uint8Array[]): void {
    for (const c of chunks) {
      if (c.length === CHUNK_BYTES && this.#free.length < POOL_CHUNKS_MAX) this.#free.push(c);
    }
  }
}

/** A batch of the packed store: records laid into chunks, then handed to the store's writer. */
export class PackedBatch implements SnapshotBatch {
  readonly #pool: ChunkPool;
  readonly #submit: (group: RecordGroup) => Promise<void>;
  readonly #entries: RecordEntry[] = [];
  /** Chunks filled so far, and the bytes each holds. */
  readonly #chunks: Uint8Array[] = [];
  readonly #used: number[] = [];
  #bytes = 0;
  #written = false;

  /** `submit` queues a group for the store's writer, resolving once it is durable. */
  constructor(pool: ChunkPool, submit: (group: RecordGroup) => Promise<void>) {
    this.#pool = pool;
    this.#submit = submit;
  }

  get size(): number {
    return this.#entries.length;
  }

  add(snapshot: Snapshot): void {
    if (this.#written) throw new Error("Cannot add to a snapshot batch: it is written already");
    const stream = snapshot.stream;
    const nameLen = recordNameLength(stream);
    const body = encodeSnapshotBodyView(snapshot); // good until the next encode: copied now
    const len = SNAPSHOT_HEADER_BYTES + body.length;
    const bytes = RECORD_HEAD + nameLen + len;
    const [chunk, at] = this.#room(bytes);
    putRecordHead(chunk, at, stream, nameLen, len);
    putSnapshotHeader(chunk, at + RECORD_HEAD + nameLen, body);
    chunk.set(body, at + RECORD_HEAD + nameLen + SNAPSHOT_HEADER_BYTES);
    const hint = hintOf(snapshot, storedCrc(chunk.subarray(at + RECORD_HEAD + nameLen)));
    this.#entries.push({ stream, bytes, nameLen, hint });
    this.#bytes += bytes;
  }

  write(): Promise<void> {
    if (this.#written) {
      return Promise.reject(new Error("Cannot write a snapshot batch twice"));
    }
    this.#written = true;
    const chunks = this.#chunks;
    const parts = chunks.map((c, i) => c.subarray(0, this.#used[i]));
    const release = () => this.#pool.give(chunks);
    if (this.#entries.length === 0) return Promise.resolve();
    return this.#submit({ entries: this.#entries, parts, bytes: this.#bytes, release });
  }

  /** The chunk and offset where a record of `bytes` goes: the last chunk's end, or a new one. */
  #room(bytes: number): [Uint8Array, number] {
    const last = this.#chunks.length - 1;
    if (last >= 0 && this.#used[last]! + bytes <= this.#chunks[last]!.length) {
      const at = this.#used[last]!;
      this.#used[last] = at + bytes;
      return [this.#chunks[last]!, at];
    }
    const chunk = bytes <= CHUNK_BYTES ? this.#pool.take() : new Uint8Array(bytes);
    this.#chunks.push(chunk);
    this.#used.push(bytes);
    return [chunk, 0];
  }
}
