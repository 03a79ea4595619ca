/**
 * Writes a recording file: its header, then records appended one by one (the format is in
 * `recording.ts`).
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { recordLayout, writeRecord } from "./_record_codec.ts";
import {
  encodeRecordingHeader,
  encodeRecordingTrailer,
  RECORD_BYTES_MAX,
  type RecordingHeaderInit,
} from "./recording.ts";
import { encodeRecordingStart, type RecordingStart } from "./recording_start.ts";

/** Options of a RecordingWriter. */
export interface RecordingWriterOptions {
  /** Bytes buffered before a write to the file. Default 1 MiB. */
  bufferBytes?: number;
  /** Writes what is buffered at least this often (0: only when full). Default 200 ms. */
  flushEveryMs?: number;
}

/**
 * Appends records to a recording file. `append` is synchronous: it encodes into a buffer, and a
 * full buffer is written to the file at once (a synchronous write, so the order on disk is the
 * order of `append` and a disk slower than the bus slows the recorder instead of filling memory).
 * What is buffered is also written every `flushEveryMs`, and `close` writes, ends the file with
 * the trailer (the records and bytes it holds: a file without one was cut or its writer died),
 * fsyncs and closes.
 */
export class RecordingWriter {
  readonly path: string;
  #fd: number;
  #buf: Uint8Array;
  #view: DataView;
  #used = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** Records appended. */
  records = 0;
  /** Bytes in the file once everything is written (header included). */
  bytes = 0;

  private constructor(path: string, fd: number, options: RecordingWriterOptions) {
    this.path = path;
    this.#fd = fd;
    this.#buf = new Uint8Array(Math.max(4096, options.bufferBytes ?? 1 << 20));
    this.#view = new DataView(this.#buf.buffer);
    const every = options.flushEveryMs ?? 200;
    if (every > 0) {
      this.#timer = setInterval(() => this.#writeOut(), every);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /**
   * Creates (or truncates) `path` and writes the header, and the start section when given (the
   * actors' state for a recording begun mid-session).
   */
  static create(
    path: string,
    header: RecordingHeaderInit,
    options: RecordingWriterOptions = {},
    start?: RecordingStart,
  ): RecordingWriter {
    const section = start ? encodeRecordingStart(start) : undefined;
    const fd = openSync(path, "w");
    const w = new RecordingWriter(path, fd, options);
    const bytes = encodeRecordingHeader(
      header,
      Math.round((performance.timeOrigin + performance.now()) * 1000),
      section?.byteLength ?? 0,
    );
    writeAll(fd, bytes);
    w.bytes = bytes.byteLength;
    if (section) {
      writeAll(fd, section);
      w.bytes += section.byteLength;
    }
    return w;
  }

  /** Appends one message received at `tUs` (µs since the epoch). `data` is copied. */
  append(
    subject: string,
    tUs: number,
    data: Uint8Array,
    headers?: Record<string, string>,
  ): void {
    if (this.#closed) throw new Error(`Cannot append to ${this.path}: the recording is closed`);
    if (!Number.isSafeInteger(tUs) || tUs < 0) {
      throw new RangeError(`Receive time must be a non-negative integer of µs, got ${tUs}`);
    }
    const layout = recordLayout(subject, data, headers);
    if (layout.body > RECORD_BYTES_MAX) {
      throw new RangeError(
        `Message on "${subject}" of ${data.byteLength} bytes makes a record over the limit of ` +
          `${RECORD_BYTES_MAX} bytes`,
      );
    }
    const size = 8 + layout.body;
    if (this.#used + size > this.#buf.byteLength) {
      this.#writeOut();
      if (size > this.#buf.byteLength) {
        this.#buf = new Uint8Array(size);
        this.#view = new DataView(this.#buf.buffer);
      }
    }
    this.#used = writeRecord(this.#buf, this.#view, this.#used, layout, tUs, data);
    this.records++;
    this.bytes += size;
  }

  /** Writes what is buffered to the file. */
  flush(): void {
    this.#writeOut();
  }

  /**
   * Writes what is buffered and the trailer, fsyncs and closes the file. `outputsCut`: the
   * trailer says the recorder stopped before the outputs of the last inputs were quiet.
   */
  close(options: { outputsCut?: boolean } = {}): void {
    if (this.#closed) return;
    this.#writeOut();
    this.#closed = true;
    try {
      writeAll(
        this.#fd,
        encodeRecordingTrailer({
          records: this.records,
          bytes: this.bytes,
          ...(options.outputsCut ? { outputsCut: true } : {}),
        }),
      );
    } catch (err) {
      closeSync(this.#fd);
      throw err;
    }
    if (this.#timer !== undefined) clearInterval(this.#timer);
    try {
      fsyncSync(this.#fd);
    } finally {
      closeSync(this.#fd);
    }
  }

  #writeOut() {
    if (this.#used === 0 || this.#closed) return;
    writeAll(this.#fd, this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }
}

function writeAll(fd: number, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}
