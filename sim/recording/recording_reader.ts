/**
 * Streams a recording file: its header, then its records in batches, and where and why it stops
 * short when it is cut or damaged (the format is in `recording.ts`).
 */
import { open as openAsync } from "node:fs/promises";
import { crc32 } from "../../actors/runtime/mod.ts";
import { TROUPE_VERSION } from "../../protocol/mod.ts";
import { describeBytes, le32, parseRecords } from "./_record_codec.ts";
import { countUnread, type UnreadRecords } from "./_recording_resync.ts";
import {
  parseRecordingHeader,
  RECORD_BYTES_MAX,
  type RecordedMessage,
  RECORDING_FORMAT_VERSIONS_READ,
  RECORDING_MAGIC,
  RECORDING_PREFIX_BYTES,
  RECORDING_TRAILER_VERSION,
  type RecordingCut,
  RecordingFormatError,
  type RecordingHeader,
  type RecordingTrailer,
} from "./recording.ts";
import {
  decodeRecordingStart,
  type RecordingStart,
  START_SECTION_BYTES_MAX,
} from "./recording_start.ts";

/** Options of `RecordingReader.open`. */
export interface RecordingReaderOptions {
  /** Bytes read from the file at a time. Default 1 MiB. */
  chunkBytes?: number;
}

/**
 * Streams a recording: the header at `open`, then the records in file order, in batches (one per
 * chunk read). After the records run out, `cut` says whether and where the file stopped short.
 */
export class RecordingReader {
  readonly path: string;
  readonly header: RecordingHeader;
  /** The actors' state at the start, for a recording begun mid-session (format 4). */
  readonly start: RecordingStart | undefined;
  /** Byte length of the header and the start section; records start here. */
  readonly headerBytes: number;
  /** The file's size when it was opened. */
  readonly fileBytes: number;
  /** Set once reading stops before the end of the file; undefined for a complete recording. */
  cut: RecordingCut | undefined;
  /** Complete records read so far. */
  records = 0;
  /**
   * Once the records are read: the trailer of a file its writer closed, agreeing with what was
   * read; undefined for a file without one (cut, its writer died, or format 2).
   */
  trailer: RecordingTrailer | undefined;
  readonly #chunkBytes: number;

  private constructor(
    path: string,
    header: RecordingHeader,
    start: RecordingStart | undefined,
    headerBytes: number,
    fileBytes: number,
    chunkBytes: number,
  ) {
    this.path = path;
    this.header = header;
    this.start = start;
    this.headerBytes = headerBytes;
    this.fileBytes = fileBytes;
    this.#chunkBytes = chunkBytes;
  }

  /** Opens `path` and reads its header; throws RecordingFormatError when it is not a recording. */
  static async open(path: string, options: RecordingReaderOptions = {}): Promise<RecordingReader> {
    const fh = await openAsync(path, "r");
    try {
      const size = (await fh.stat()).size;
      const prefix = new Uint8Array(RECORDING_PREFIX_BYTES);
      const { bytesRead } = await fh.read(prefix, 0, RECORDING_PREFIX_BYTES, 0);
      const first = prefix.subarray(0, Math.min(bytesRead, 8));
      if (bytesRead < 8 || !RECORDING_MAGIC.every((b, i) => first[i] === b)) {
        throw new RecordingFormatError(
          path,
          `${path} is not a troupe recording: it starts with ${
            describeBytes(first)
          }, not "TROUPREC"`,
        );
      }
      if (bytesRead < RECORDING_PREFIX_BYTES) {
        throw new RecordingFormatError(
          path,
          `${path} is cut inside its header: ${size} bytes, the header alone takes ` +
            `${RECORDING_PREFIX_BYTES}`,
        );
      }
      const view = new DataView(prefix.buffer);
      const version = view.getUint32(8, true);
      if (!RECORDING_FORMAT_VERSIONS_READ.includes(version)) {
        throw new RecordingFormatError(
          path,
          `${path} is a recording of format version ${version}; this troupe ` +
            `(${TROUPE_VERSION}) reads format version ` +
            RECORDING_FORMAT_VERSIONS_READ.join(" or "),
          { version },
        );
      }
      const length = view.getUint32(12, true);
      if (length > RECORD_BYTES_MAX || RECORDING_PREFIX_BYTES + length > size) {
        throw new RecordingFormatError(
          path,
          `${path} is cut inside its header: the header says ${length} bytes, the file has ${
            size - RECORDING_PREFIX_BYTES
          } after the prefix`,
          { version },
        );
      }
      const body = new Uint8Array(length);
      await fh.read(body, 0, length, RECORDING_PREFIX_BYTES);
      if (crc32(body) !== view.getUint32(16, true)) {
        throw new RecordingFormatError(path, `${path}: the header's checksum does not match`, {
          version,
        });
      }
      const header = parseRecordingHeader(path, body, version);
      const start = await readStart(fh, path, header, RECORDING_PREFIX_BYTES + length, size);
      return new RecordingReader(
        path,
        header,
        start,
        RECORDING_PREFIX_BYTES + length + header.start_bytes,
        size,
        Math.max(4096, options.chunkBytes ?? 1 << 20),
      );
    } finally {
      await fh.close();
    }
  }

  /**
   * The records, a batch per chunk read. Each batch's `data` views stay valid (each chunk is a
   * fresh buffer). Stops at the end of the file or at a cut (see `cut`).
   */
  async *batches(): AsyncGenerator<RecordedMessage[]> {
    const fh = await openAsync(this.path, "r");
    try {
      let filePos = this.headerBytes; // file offset of buf[0]
      let buf = new Uint8Array(0);
      let eof = false;
      let index = 0;
      this.cut = undefined;
      this.trailer = undefined;
      this.records = 0;
      while (true) {
        const { batch, p, stop, trailer, trailerBytes } = parseRecords(buf, filePos, index);
        index += batch.length;
        this.records = index;
        if (batch.length) yield batch;
        if (trailer !== undefined) {
          await this.#ended(fh, trailer, filePos + p, trailerBytes!);
          return;
        }
        if (stop !== undefined) {
          this.cut = {
            offset: filePos + p,
            records: index,
            bytesLeft: this.fileBytes - filePos - p,
            reason: stop,
            unread: await this.#unreadAfter(fh, filePos + p),
          };
          return;
        }
        if (eof) {
          const left = buf.byteLength - p;
          if (left > 0) {
            this.cut = {
              offset: filePos + p,
              records: index,
              bytesLeft: left,
              reason: left < 8
                ? `the file ends inside record ${index}'s length prefix`
                : `the file ends inside record ${index}`,
              unread: await this.#unreadAfter(fh, filePos + p),
            };
          }
          return;
        }
        // Read on: keep the partial record, in a fresh buffer big enough for it.
        const rest = buf.subarray(p);
        let need = this.#chunkBytes;
        if (rest.byteLength >= 8) {
          const length = le32(rest, 0);
          need = Math.max(need, 8 + length);
        }
        const next = new Uint8Array(rest.byteLength + need);
        next.set(rest);
        const { bytesRead } = await fh.read(next, rest.byteLength, need, filePos + buf.byteLength);
        if (bytesRead === 0) eof = true;
        filePos += p;
        buf = next.subarray(0, rest.byteLength + bytesRead);
        if (bytesRead < need) eof = true;
      }
    } finally {
      await fh.close();
    }
  }

  /**
   * Whether a format 3 recording is whole: closed by its writer (a trailer that agrees with what
   * was read, nothing after it, no cut); undefined for format 2, which has no trailer.
   */
  get whole(): boolean | undefined {
    if (this.header.format < RECORDING_TRAILER_VERSION) return undefined;
    return this.trailer !== undefined && this.cut === undefined;
  }

  /**
   * Reads the trailer found at file offset `at`: it must agree with what was read, and end the
   * file.
   */
  async #ended(
    fh: Awaited<ReturnType<typeof openAsync>>,
    trailer: RecordingTrailer,
    at: number,
    trailerBytes: number,
  ): Promise<void> {
    if (trailer.records !== this.records || trailer.bytes !== at) {
      this.cut = {
        offset: at,
        records: this.records,
        bytesLeft: this.fileBytes - at,
        reason: `the trailer says ${trailer.records} records in ${trailer.bytes} bytes, ` +
          `the file has ${this.records} records in ${at} bytes before it`,
        unread: await this.#unreadAfter(fh, at + trailerBytes),
      };
      return;
    }
    const end = at + trailerBytes;
    if (end < this.fileBytes) {
      this.cut = {
        offset: end,
        records: this.records,
        bytesLeft: this.fileBytes - end,
        reason: `${this.fileBytes - end} bytes after the trailer`,
        unread: await this.#unreadAfter(fh, end),
      };
      return;
    }
    this.trailer = trailer;
  }

  /** The intact records from file offset `from` to the end (a damaged recording's rest). */
  async #unreadAfter(
    fh: Awaited<ReturnType<typeof openAsync>>,
    from: number,
  ): Promise<UnreadRecords> {
    const rest = new Uint8Array(Math.max(0, this.fileBytes - from));
    let done = 0;
    while (done < rest.byteLength) {
      const { bytesRead } = await fh.read(rest, done, rest.byteLength - done, from + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return countUnread(rest.subarray(0, done), from, RECORD_BYTES_MAX);
  }

  /** The records one by one (see `batches`). */
  async *messages(): AsyncGenerator<RecordedMessage> {
    for await (const batch of this.batches()) yield* batch;
  }
}

/** The start section at file offset `at`, when the header says there is one. */
async function readStart(
  fh: Awaited<ReturnType<typeof openAsync>>,
  path: string,
  header: RecordingHeader,
  at: number,
  size: number,
): Promise<RecordingStart | undefined> {
  const n = header.start_bytes;
  if (n === 0) return undefined;
  const fail = (why: string) =>
    new RecordingFormatError(path, `${path}: ${why}`, { version: header.format });
  if (!Number.isSafeInteger(n) || n < 8 || n > START_SECTION_BYTES_MAX + 8) {
    throw fail(`the header's start_bytes of ${n} is not a start section's size`);
  }
  if (at + n > size) {
    throw fail(`the file is cut inside its start section: ${n} bytes, ${size - at} in the file`);
  }
  const bytes = new Uint8Array(n);
  await fh.read(bytes, 0, n, at);
  const start = decodeRecordingStart(bytes);
  if (typeof start === "string") throw fail(start);
  return start;
}
