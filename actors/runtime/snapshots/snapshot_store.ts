/**
 * The snapshot contract: an actor instance's state at a journal position, so that recovery replays
 * only the journal's tail. A snapshot is `{ machine persisted snapshot, kernel bytes, journal
 * position, machine version }`; one of another machine version is discarded by the host. Stored
 * snapshots are CRC-checked: a damaged one is reported and treated as absent (recovery then
 * replays the journal from the start), never loaded. Two stores: FileSnapshotStore and
 * KvSnapshotStore; both encode with `encodeSnapshot` and `decodeSnapshot` here.
 */
import { allocBytes, decodeValue, encodeValue, encodeValueView } from "../../../protocol/mod.ts";
import { crc32 } from "../journal/mod.ts";

/** `SnapshotStore.held`: the store holds the stream's snapshot, to be read. */
export const HELD = 1;
/** `SnapshotStore.held`: the store holds the stream's head in memory (`headNow` gives it). */
export const HELD_NOW = 2;

/** An actor instance's state after the journal record at `pos` of `stream`. */
export interface Snapshot {
  stream: string;
  version: number;
  pos: number;
  machine: unknown;
  kernel: Uint8Array;
  meta?: Record<string, number | string>;
}

/**
 * What a snapshot's bytes say of it without decoding its machine and kernel (`readSnapshotHead`),
 * their magic and CRC checked.
 */
export interface SnapshotHead extends Omit<Snapshot, "machine" | "kernel"> {
  /**
   * The snapshot's bytes, for `decodeSnapshotBody`: held, or read again when wanted (the packed
   * store's start); throws when they cannot be had. Where `bodyReads` is given, they are memory
   * the store reads its next body into: decode them at once and copy what is kept.
   */
  body(): Uint8Array;
  /**
   * How many bodies the store has read into the memory `body` gives (absent: each body is its
   * own): bytes had under another count have been written over.
   */
  bodyReads?(): number;
  /**
   * Where the store holds the body, as a number (absent: nowhere in particular): bodies read in
   * its order are read in the order they lie, which a store may read many of at once.
   */
  order?: number;
}

/** Durable storage of the newest snapshot per stream. */
export interface SnapshotStore {
  /** True for a store whose snapshots do not outlive the process (in memory): a journal that
   *  does outlive it is never compacted behind them. */
  readonly volatile?: boolean;
  /**
   * Saves worth having in flight at once (absent: the snapshotter's 32): a store that writes
   * many in one write and one fsync (the packed store) takes more.
   */
  readonly savesInFlight?: number;
  /**
   * Batches (`batch`) a stop may have given the store to write at once (absent: one, the next
   * taken while it is written): a store that writes what waits in one write and one fsync (the
   * packed store, a segment's bytes at a time) then pays the disk's sync once for several.
   */
  readonly batchesInFlight?: number;
  save(snapshot: Snapshot): Promise<void>;
  /**
   * A batch of saves written together, when the store has them (the packed store): each
   * snapshot is encoded as it is added, so that nothing of it but its bytes is held until the
   * batch is written, and the batch is one write and one fsync.
   */
  batch?(): SnapshotBatch;
  /**
   * The newest snapshot of `stream`, or undefined. A corrupt snapshot is reported (onCorrupt) and
   * treated as absent.
   */
  load(stream: string): Promise<Snapshot | undefined>;
  /**
   * `load`, but its body not decoded (`readSnapshotHead`), when the store has it: for a start,
   * which restores most instances later than it reads their snapshots.
   */
  loadHead?(stream: string): Promise<SnapshotHead | undefined>;
  /**
   * `loadHead`'s head at once, where the store holds it in memory (the packed store's start: a
   * head read at the open or given by its hint file); undefined where it must be read
   * (`hasHeadNow` says which). A start of hundreds of thousands of instances then takes no
   * promise a head.
   */
  headNow?(stream: string): SnapshotHead | undefined;
  /** Whether `headNow` gives `stream`'s head. */
  hasHeadNow?(stream: string): boolean;
  /**
   * Whether the store holds a snapshot of `stream`: HELD_NOW where `headNow` gives its head, HELD
   * where it is to be read, 0 where there is none. With `heldCount`, what a start asks of each of
   * its streams in one lookup, where `list` would sort them all for a set made of them.
   */
  held?(stream: string): number;
  /** How many streams have a snapshot, where the store has `held`. */
  readonly heldCount?: number;
  /** All streams that have a snapshot. */
  list(): Promise<string[]>;
  close(): Promise<void>;
}

/** Saves of a store written together (`SnapshotStore.batch`). */
export interface SnapshotBatch {
  /**
   * Encodes `snapshot` into the batch; throws (and adds nothing) when it is not well formed. A
   * stream added twice is saved twice, the later its newest.
   */
  add(snapshot: Snapshot): void;
  /** The snapshots added. */
  readonly size: number;
  /**
   * Writes the batch's snapshots after any save begun before; resolves once every one is
   * durable, rejects when none is. A batch is written once.
   */
  write(): Promise<void>;
}

/** A stored snapshot that could not be loaded, as reported to `onCorrupt`. */
export interface CorruptSnapshotInfo {
  stream: string;
  /** The file path or key-value key that holds it. */
  where: string;
  /** What is wrong with it. */
  reason: string;
}

/** Stored snapshot bytes that are damaged or not a snapshot. */
export class SnapshotCorruptError extends Error {
  override name = "SnapshotCorruptError";
}

const MAGIC = [0x54, 0x52, 0x50, 0x53]; // "TRPS"
const HEADER_BYTES = 8;
/** The format of a snapshot's body (its `f`) this code writes and reads. */
export const SNAPSHOT_FORMAT = 2;

/**
 * Encodes a snapshot: the magic `TRPS`, the CRC-32 of the body (u32, little-endian), then the
 * body, a msgpack map `{ f, stream, version, pos, machine, kernel, meta? }` (`f` is the format).
 */
export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const [header, body] = encodeSnapshotParts(snapshot);
  const out = new Uint8Array(HEADER_BYTES + body.length);
  out.set(header, 0);
  out.set(body, HEADER_BYTES);
  return out;
}

/**
 * `encodeSnapshot`'s bytes in two parts, its header (magic and CRC) and its body, not copied
 * into one: a store that writes them side by side (the packed store) saves the copy.
 */
export function encodeSnapshotParts(snapshot: Snapshot): [Uint8Array, Uint8Array] {
  checkSnapshot(snapshot);
  const body = encodeValue(bodyOf(snapshot));
  const header = allocBytes(HEADER_BYTES);
  putSnapshotHeader(header, 0, body);
  return [header, body];
}

/** The bytes of a snapshot's header: its magic and its body's CRC. */
export const SNAPSHOT_HEADER_BYTES = HEADER_BYTES;

/**
 * A snapshot's body as `encodeSnapshotParts` makes it, but good only until the next encode of
 * any value (a view of the encoder's scratch buffer, not copied out): for a store that copies it
 * at once into a buffer it reuses (the packed store's batches).
 */
export function encodeSnapshotBodyView(snapshot: Snapshot): Uint8Array {
  checkSnapshot(snapshot);
  return encodeValueView(bodyOf(snapshot));
}

/** Writes the header of a snapshot of body `body` at `at` of `out` (`SNAPSHOT_HEADER_BYTES`). */
export function putSnapshotHeader(out: Uint8Array, at: number, body: Uint8Array): void {
  out.set(MAGIC, at);
  const crc = crc32(body);
  out[at + 4] = crc & 0xff;
  out[at + 5] = (crc >>> 8) & 0xff;
  out[at + 6] = (crc >>> 16) & 0xff;
  out[at + 7] = crc >>> 24;
}

function bodyOf(snapshot: Snapshot): Record<string, unknown> {
  return {
    f: SNAPSHOT_FORMAT,
    stream: snapshot.stream,
    version: snapshot.version,
    pos: snapshot.pos,
    machine: snapshot.machine,
    kernel: snapshot.kernel,
    meta: snapshot.meta,
  };
}

/** Whether `bytes` begin as a snapshot does and its body passes its CRC (not decoded). */
export function snapshotIntact(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) return false;
  const crc = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  return crc32(bytes, HEADER_BYTES) === crc;
}

/** Decodes and checks snapshot bytes; throws a SnapshotCorruptError saying what is wrong. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  checkSnapshotBytes(bytes);
  return decodeSnapshotBody(bytes);
}

/**
 * Checks that `bytes` begin with a snapshot's magic and that its body passes its CRC; throws a
 * SnapshotCorruptError saying which does not.
 */
export function checkSnapshotBytes(bytes: Uint8Array): void {
  if (bytes.length < HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new SnapshotCorruptError(
      `Cannot decode a snapshot of ${bytes.length} bytes: it does not start with the magic TRPS`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(4, true);
  const actual = crc32(bytes, HEADER_BYTES);
  if (stored !== actual) {
    throw new SnapshotCorruptError(
      `Cannot decode a snapshot of ${bytes.length} bytes: CRC mismatch (stored ${
        hex(stored)
      }, computed ${hex(actual)})`,
    );
  }
}

/** The CRC snapshot bytes carry for their body (of at least a header's bytes; not checked). */
export function storedCrc(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
}

/**
 * Decodes and checks the body of snapshot bytes whose magic and CRC were checked already
 * (`decodeSnapshot`, `readSnapshotHead`); throws a SnapshotCorruptError saying what is wrong.
 */
export function decodeSnapshotBody(bytes: Uint8Array): Snapshot {
  let body: unknown;
  try {
    body = decodeValue(bytes.subarray(HEADER_BYTES));
  } catch (err) {
    throw new SnapshotCorruptError(`Cannot decode a snapshot: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new SnapshotCorruptError("Cannot decode a snapshot: the body is not a map");
  }
  const m = body as Record<string, unknown>;
  if (m.f !== SNAPSHOT_FORMAT) {
    throw new SnapshotCorruptError(
      `Cannot decode a snapshot: format ${String(m.f)}, this code reads ${SNAPSHOT_FORMAT}`,
    );
  }
  const snapshot: Snapshot = {
    stream: m.stream as string,
    version: m.version as number,
    pos: m.pos as number,
    machine: m.machine,
    // A view of `bytes`, not a copy: restoring an instance copies it for a kernel that keeps its
    // bytes (actor_instance.ts); the default kinds copy what they keep as they load. A plain
    // Uint8Array even over a Node Buffer's bytes (whose `slice` would be a view).
    kernel: m.kernel instanceof Uint8Array
      ? new Uint8Array(m.kernel.buffer, m.kernel.byteOffset, m.kernel.byteLength)
      : m.kernel as Uint8Array,
  };
  if (m.meta !== undefined) snapshot.meta = m.meta as Record<string, number | string>;
  try {
    checkSnapshot(snapshot);
  } catch (err) {
    throw new SnapshotCorruptError(`Cannot decode a snapshot: ${(err as Error).message}`);
  }
  return snapshot;
}

/** Throws a TypeError naming the field when `snapshot` is not a well-formed Snapshot. */
export function checkSnapshot(snapshot: Snapshot): void {
  const bad = (field: string, expected: string, value: unknown) =>
    new TypeError(`Snapshot field "${field}" must be ${expected}, got ${describe(value)}`);
  if (typeof snapshot.stream !== "string" || snapshot.stream.length === 0) {
    throw bad("stream", "a non-empty string", snapshot.stream);
  }
  if (typeof snapshot.version !== "number" || !Number.isFinite(snapshot.version)) {
    throw bad("version", "a number", snapshot.version);
  }
  if (!Number.isSafeInteger(snapshot.pos) || snapshot.pos < 0) {
    throw bad("pos", "an integer >= 0", snapshot.pos);
  }
  if (!(snapshot.kernel instanceof Uint8Array)) throw bad("kernel", "bin", snapshot.kernel);
  const meta = snapshot.meta;
  if (meta !== undefined) {
    if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
      throw bad("meta", "a map", meta);
    }
    for (const [k, v] of Object.entries(meta)) {
      if (typeof v !== "number" && typeof v !== "string") {
        throw bad(`meta.${k}`, "a number or a string", v);
      }
    }
  }
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === "string") return JSON.stringify(value.slice(0, 80));
  if (typeof value === "number") return String(value);
  if (value instanceof Uint8Array) return `bin of ${value.length} bytes`;
  return Array.isArray(value) ? "an array" : typeof value;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

/**
 * A stream name as a file name or key-value key token: `A-Z a-z 0-9 _ -` are kept, every other
 * UTF-8 byte becomes `=HH` (hex), so `stats/BTC-USD` becomes `stats=2FBTC-USD`.
 */
export function escapeStreamName(stream: string): string {
  let out = "";
  for (const ch of stream) {
    if (/^[A-Za-z0-9_-]$/.test(ch)) out += ch;
    else {
      for (const b of new TextEncoder().encode(ch)) {
        out += "=" + b.toString(16).toUpperCase().padStart(2, "0");
      }
    }
  }
  return out;
}

/** The inverse of `escapeStreamName`, or undefined when `name` is not an escaped name. */
export function unescapeStreamName(name: string): string | undefined {
  if (!/^(?:[A-Za-z0-9_-]|=[0-9A-F]{2})+$/.test(name)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < name.length;) {
    if (name[i] === "=") {
      bytes.push(parseInt(name.slice(i + 1, i + 3), 16));
      i += 3;
    } else bytes.push(name.charCodeAt(i++));
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Runs tasks one after another per key (a stream's saves land in call order) and concurrently
 * across keys; a failed task does not stop the next one of its key.
 */
export class SerialByKey {
  #tails = new Map<string, Promise<void>>();

  /** Runs `task` after every earlier task of `key`. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(task);
    this.#tails.set(key, next);
    const cleanup = () => {
      if (this.#tails.get(key) === next) this.#tails.delete(key);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  /** Resolves when every task started so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#tails.values()]);
  }
}

/**
 * A store's saves and whether it is open: saves of one stream land in call order, `close()` waits
 * for those in progress and then the store refuses further use. Shared by the file and KV stores.
 */
export class StoreSaves {
  readonly #serial = new SerialByKey();
  readonly #where: string;
  #closed = false;

  /** `where` names the store in errors: `in /data/snapshots`, `in bucket TROUPE_SNAPSHOTS`. */
  constructor(where: string) {
    this.#where = where;
  }

  /** Throws once the store is closed. */
  check(): void {
    if (this.#closed) throw new Error(`Cannot use the snapshot store ${this.#where}: it is closed`);
  }

  /** Runs a save of `stream` after the stream's earlier saves. */
  run(stream: string, task: () => Promise<void>): Promise<void> {
    return this.#serial.run(stream, task);
  }

  /** Resolves when every save begun so far has settled. */
  settled(): Promise<void> {
    return this.#serial.settled();
  }

  /** Waits for saves in progress, then refuses further use. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#serial.settled();
  }
}

/**
 * The streams a store holds snapshots of, sorted, from its entries' names: `streamOf` gives the
 * escaped stream name of an entry that is a snapshot, undefined for any other entry.
 */
export async function listStreams(
  entries: Iterable<string> | AsyncIterable<string>,
  streamOf: (entry: string) => string | undefined,
): Promise<string[]> {
  const streams: string[] = [];
  for await (const entry of entries) {
    const escaped = streamOf(entry);
    const stream = escaped === undefined ? undefined : unescapeStreamName(escaped);
    if (stream !== undefined) streams.push(stream);
  }
  return streams.sort();
}

/** Where a stored snapshot was read from, and whom to tell when it is damaged. */
export interface StoredSnapshotPlace {
  /** The file path or key-value key that holds it. */
  where: string;
  /** What holds it, in the error: `file`, `key`. */
  holder: string;
  onCorrupt?: ((info: CorruptSnapshotInfo) => void) | undefined;
}

/**
 * The snapshot of `stream` in the bytes `read` gives, as `parse` reads it (`decodeSnapshot`, or
 * `readSnapshotHead` for its head); bytes that are damaged, not a snapshot, or another stream's
 * are reported through `onCorrupt` and give undefined. Shared by the stores' `load`.
 */
export function storedSnapshot<T extends { stream: string } = Snapshot>(
  stream: string,
  read: () => Uint8Array | Promise<Uint8Array>,
  place: StoredSnapshotPlace,
  parse: (bytes: Uint8Array) => T = decodeSnapshot as unknown as (bytes: Uint8Array) => T,
): Promise<T | undefined> {
  const stored = (bytes: Uint8Array) => {
    const snapshot = parse(bytes);
    if (snapshot.stream !== stream) {
      throw new Error(
        `the ${place.holder} holds a snapshot of stream ${JSON.stringify(snapshot.stream)}`,
      );
    }
    return snapshot;
  };
  const report = (err: unknown) => {
    place.onCorrupt?.({ stream, where: place.where, reason: (err as Error).message });
    return undefined;
  };
  try {
    // Bytes read at once are parsed at once: a store may read them into memory it reuses.
    const bytes = read();
    return bytes instanceof Uint8Array
      ? Promise.resolve(stored(bytes))
      : bytes.then(stored).catch(report);
  } catch (err) {
    return Promise.resolve(report(err));
  }
}
