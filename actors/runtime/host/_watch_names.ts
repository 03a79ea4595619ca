/**
 * How the step watchdog learns which instance an id is (step_watch.ts): the host's thread writes
 * each instance's description once, before its first step, into memory the two threads share,
 * and the watchdog reads what it has not read yet when it meets an id it does not know. A message
 * an instance costs a structured clone and a wake-up of the watchdog's thread, on a host busy with
 * the round that makes an instance for each of a fleet's channels' kinds (docs/channel_cost.md
 * measures it).
 *
 * A log is a SharedArrayBuffer: a 32-bit count of the bytes written (stored atomically after the
 * entry it covers), then entries of a 32-bit id, a 32-bit length and the description as JSON
 * (UTF-8). A log that is full is followed by a new one of the same size (so the room made and not
 * written is one log's at most), sent to the watchdog in a message before any entry is written to
 * it: a message reaches the watchdog's thread whatever the
 * host's thread does after sending it, so an entry is always in a log the watchdog has or will
 * have by its next look. Private to the host folder.
 */
import type { MessagePort, Worker } from "node:worker_threads";

/** What the watchdog is told of an instance when its first step is watched. */
export interface WatchedInstance {
  id: number;
  stream: string;
  kind: string;
  key: string;
  /** Its kind's step deadline, ms. */
  deadlineMs: number;
  /** Its host, when several share the watchdog (a leased host's partitions: `part-<n>`). */
  host?: string;
}

/** The message that hands the watchdog a new log. */
export interface NamesLogMessage {
  namesLog: SharedArrayBuffer;
}

/** Bytes of a log before its entries: the count of bytes written, padded to 8. */
const LOG_HEADER = 8;
/** Bytes of an entry before its description: id and length. */
const ENTRY_HEADER = 8;
/** A log's size (a description larger than a log gets a log of its own). */
const LOG_BYTES = 1024 * 1024;

const utf8 = new TextEncoder();

/** The host's side: writes descriptions into the logs, starting a new one when full. */
export class NamesWriter {
  readonly #to: Worker | MessagePort;
  #log: SharedArrayBuffer | undefined;
  #bytes: Uint8Array<SharedArrayBuffer> = new Uint8Array(new SharedArrayBuffer(0));
  #view: DataView<SharedArrayBuffer> = new DataView(new SharedArrayBuffer(0));
  #count: Int32Array<SharedArrayBuffer> = new Int32Array(new SharedArrayBuffer(4));

  constructor(to: Worker | MessagePort) {
    this.#to = to;
  }

  /** Writes `inst`'s description, readable by the watchdog from when this returns. */
  write(inst: WatchedInstance): void {
    const { id, ...rest } = inst;
    const json = JSON.stringify(rest);
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    const room = ENTRY_HEADER + 3 * json.length;
    let at = this.#log === undefined ? 0 : Atomics.load(this.#count, 0);
    if (this.#log === undefined || at + room > this.#bytes.length) {
      this.#grow(room);
      at = LOG_HEADER;
    }
    const { written } = utf8.encodeInto(json, this.#bytes.subarray(at + ENTRY_HEADER));
    this.#view.setUint32(at, id, true);
    this.#view.setUint32(at + 4, written, true);
    Atomics.store(this.#count, 0, at + ENTRY_HEADER + written);
  }

  /** Starts a new log with room for `room` bytes at least, and hands it to the watchdog. */
  #grow(room: number): void {
    const size = Math.max(LOG_BYTES, LOG_HEADER + room);
    const log = new SharedArrayBuffer(size);
    this.#log = log;
    this.#bytes = new Uint8Array(log);
    this.#view = new DataView(log);
    this.#count = new Int32Array(log, 0, 1);
    Atomics.store(this.#count, 0, LOG_HEADER);
    const message: NamesLogMessage = { namesLog: log };
    this.#to.postMessage(message);
  }
}

/**
 * The watchdog's side: the logs it was handed, read as far as they were written. It keeps where
 * each id's entry lies (two numbers an id, ids being counted from 1 by the host) and decodes an
 * entry only when asked for it: the watchdog asks for the instance whose step is running, at most
 * every look, and a fleet's hundreds of thousands of descriptions held decoded would each be
 * objects and strings on its thread.
 */
export class NamesReader {
  readonly #logs: { bytes: Uint8Array; count: Int32Array; read: number }[] = [];
  /** Per id: its log's index + 1 (0: not read yet) and its entry's offset in that log. */
  #logOf = new Int32Array(1024);
  #at = new Int32Array(1024);
  /** The last instance decoded (the watchdog asks for the running step's at every look). */
  #last: WatchedInstance | undefined;
  readonly #utf8 = new TextDecoder();

  /** Takes a message from the host's thread: true when it was a log. */
  take(message: unknown): boolean {
    const log = (message as Partial<NamesLogMessage> | null)?.namesLog;
    if (!(log instanceof SharedArrayBuffer)) return false;
    this.#logs.push({
      bytes: new Uint8Array(log),
      count: new Int32Array(log, 0, 1),
      read: LOG_HEADER,
    });
    return true;
  }

  /** The instance of `id`, reading what was written since the last read when it is not known. */
  get(id: number): WatchedInstance | undefined {
    if (this.#last?.id === id) return this.#last;
    if (!this.#known(id)) {
      for (let i = 0; i < this.#logs.length; i++) this.#read(i);
      if (!this.#known(id)) return undefined;
    }
    const log = this.#logs[this.#logOf[id]! - 1]!, at = this.#at[id]!;
    const n = new DataView(log.bytes.buffer).getUint32(at + 4, true);
    const from = at + ENTRY_HEADER;
    // Decoded from a copy: a TextDecoder does not read shared memory.
    const json = this.#utf8.decode(log.bytes.slice(from, from + n));
    return (this.#last = { id, ...JSON.parse(json) });
  }

  #known(id: number): boolean {
    return Number.isSafeInteger(id) && id > 0 && id < this.#logOf.length && this.#logOf[id] !== 0;
  }

  /** Notes where each entry of log `index` written since the last read lies. */
  #read(index: number): void {
    const log = this.#logs[index]!;
    const end = Atomics.load(log.count, 0);
    const view = new DataView(log.bytes.buffer);
    while (log.read + ENTRY_HEADER <= end) {
      const id = view.getUint32(log.read, true);
      if (id >= this.#logOf.length) this.#grow(id);
      this.#logOf[id] = index + 1;
      this.#at[id] = log.read;
      log.read += ENTRY_HEADER + view.getUint32(log.read + 4, true);
    }
  }

  /** Room for ids up to `id`, doubled. */
  #grow(id: number): void {
    let size = this.#logOf.length;
    while (size <= id) size *= 2;
    const logOf = new Int32Array(size), at = new Int32Array(size);
    logOf.set(this.#logOf);
    at.set(this.#at);
    this.#logOf = logOf;
    this.#at = at;
  }
}
