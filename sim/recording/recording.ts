/**
 * The recording file format, its writer and its streaming reader. A recording holds everything
 * that crossed the bus in a session (feeds, control, collab updates, actor outputs, dead letters),
 * each message with its subject and the time it was received, so that `troupe replay` can feed the
 * inputs back through fresh actors and compare what they publish with what was published.
 *
 * Format version 2 (version 1 used CRC-32C). All integers little-endian; CRC-32 (zlib) as in the journal.
 *
 * ```
 * header   offset 0   8 bytes  magic, ASCII "TROUPREC"
 *          offset 8   u32      format version: 2
 *          offset 12  u32      H, the byte length of the header body
 *          offset 16  u32      CRC-32 of the header body
 *          offset 20  H bytes  header body: a msgpack map
 *                       troupe      str        version of troupe that wrote the file
 *                       created_us  int        wall-clock start of the recording, µs since the epoch
 *                       source      str        what recorded it: "troupe up", "troupe record"
 *                       bus         str        "in-process" or the NATS URL recorded from
 *                       subjects    str        the subject patterns recorded, comma-separated
 *                       config      map | nil  the cluster's configuration when known:
 *                                              { actors: { <kind>: {...} }, limits?: {...} }
 *                       seed        int | nil  the seed of the synthetic feed, when there was one
 *                       (readers ignore keys they do not know)
 * record   u32      L, the byte length of the body (1 to 64 MiB)
 *          u32      CRC-32 of the body
 *          L bytes  body: a msgpack array [subject, t_us, data] or [subject, t_us, data, headers]
 *                     subject  str                 the subject the message was published on
 *                     t_us     int                 receive time, µs since the epoch (recorder's clock)
 *                     data     bin                 the message bytes, exactly as received
 *                     headers  map str -> str      message headers (e.g. Nats-Msg-Id), when any
 * ```
 *
 * Records follow the header back to back until the end of the file, in the order the recorder
 * received them. A file cut short (a recorder killed mid-write, a disk full) keeps every complete
 * record before the cut: the reader delivers them and then reports the byte offset of the cut and
 * why (a partial length prefix, a partial body, a bad length, a CRC mismatch). A file of another
 * format version is refused with an error naming both versions.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { open as openAsync } from "node:fs/promises";
import { crc32 } from "../../actors/runtime/mod.ts";
import { decodeValue, encodeValue, TROUPE_VERSION } from "../../protocol/mod.ts";

/** The format version this code writes and reads. */
export const RECORDING_FORMAT_VERSION = 2;

/** The 8 bytes every recording starts with: ASCII "TROUPREC". */
export const RECORDING_MAGIC = new Uint8Array([0x54, 0x52, 0x4f, 0x55, 0x50, 0x52, 0x45, 0x43]);

/** The fixed part of the header: magic, version, body length, CRC. */
export const RECORDING_PREFIX_BYTES = 20;

/** The largest record body accepted (a bound: a damaged length must not allocate gigabytes). */
export const RECORD_BYTES_MAX = 64 << 20;

/** What a recording's header says. */
export interface RecordingHeader {
  /** The format version of the file (always RECORDING_FORMAT_VERSION once read). */
  format: number;
  troupe: string;
  created_us: number;
  source: string;
  bus: string;
  subjects: string;
  config: RecordingConfig | null;
  seed: number | null;
}

/** The configuration of the recorded cluster. */
export interface RecordingConfig {
  /** Per-kind actor configuration; the kinds listed are the kinds that ran. */
  actors?: Record<string, unknown>;
  /** Host limits (frame_bytes_max, samples_per_frame_max, ...), when known. */
  limits?: Record<string, unknown>;
  [key: string]: unknown;
}

/** What a writer is told; the rest of the header is filled in. */
export type RecordingHeaderInit =
  & Partial<Omit<RecordingHeader, "format" | "troupe">>
  & Pick<RecordingHeader, "source">;

/** One recorded message. `data` may be a view into the reader's buffer: copy it to keep it. */
export interface RecordedMessage {
  subject: string;
  /** Receive time, µs since the epoch. */
  tUs: number;
  data: Uint8Array;
  headers: Record<string, string> | undefined;
  /** 0-based index of the record in the file. */
  index: number;
  /** Byte offset of the record's length prefix in the file. */
  offset: number;
}

/** Where and why a recording stops short of its end of file. */
export interface RecordingCut {
  /** Byte offset of the first byte not read as a complete record. */
  offset: number;
  /** Complete records before the cut. */
  records: number;
  /** Bytes from the cut to the end of the file. */
  bytesLeft: number;
  reason: string;
}

/** A file that is not a recording this code can read (magic, version, header). */
export class RecordingFormatError extends Error {
  override name = "RecordingFormatError";
  readonly path: string;
  /** The file's format version, when it got that far. */
  readonly version: number | undefined;
  constructor(path: string, message: string, options: { version?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.path = path;
    this.version = options.version;
  }
}

// --- writing ---------------------------------------------------------------------------------

/** Options of a RecordingWriter. */
export interface RecordingWriterOptions {
  /** Bytes buffered before a write to the file. Default 1 MiB. */
  bufferBytes?: number;
  /** Writes what is buffered at least this often (0: only when full). Default 200 ms. */
  flushEveryMs?: number;
}

/** Encodes a recording's header (magic, version, length, CRC, msgpack body). */
export function encodeRecordingHeader(init: RecordingHeaderInit, createdUs: number): Uint8Array {
  const body = encodeValue({
    troupe: TROUPE_VERSION,
    created_us: init.created_us ?? createdUs,
    source: init.source,
    bus: init.bus ?? "in-process",
    subjects: init.subjects ?? "troupe.>",
    config: init.config ?? null,
    seed: init.seed ?? null,
  });
  const out = new Uint8Array(RECORDING_PREFIX_BYTES + body.byteLength);
  const view = new DataView(out.buffer);
  out.set(RECORDING_MAGIC, 0);
  view.setUint32(8, RECORDING_FORMAT_VERSION, true);
  view.setUint32(12, body.byteLength, true);
  view.setUint32(16, crc32(body), true);
  out.set(body, RECORDING_PREFIX_BYTES);
  return out;
}

const utf8 = new TextEncoder();

/**
 * Appends records to a recording file. `append` is synchronous: it encodes into a buffer, and a
 * full buffer is written to the file at once (a synchronous write, so the order on disk is the
 * order of `append` and a disk slower than the bus slows the recorder instead of filling memory).
 * What is buffered is also written every `flushEveryMs`, and `close` writes, fsyncs and closes.
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

  /** Creates (or truncates) `path` and writes the header. */
  static create(
    path: string,
    header: RecordingHeaderInit,
    options: RecordingWriterOptions = {},
  ): RecordingWriter {
    const fd = openSync(path, "w");
    const w = new RecordingWriter(path, fd, options);
    const bytes = encodeRecordingHeader(
      header,
      Math.round((performance.timeOrigin + performance.now()) * 1000),
    );
    writeAll(fd, bytes);
    w.bytes = bytes.byteLength;
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
    const subj = utf8.encode(subject);
    const head = headers && Object.keys(headers).length ? encodeValue(headers) : undefined;
    const strHead = subj.byteLength < 32
      ? 1
      : subj.byteLength < 256
      ? 2
      : subj.byteLength < 65536
      ? 3
      : 5;
    const n = data.byteLength;
    const binHead = n < 256 ? 2 : n < 65536 ? 3 : 5;
    const body = 1 + strHead + subj.byteLength + 9 + binHead + n + (head?.byteLength ?? 0);
    if (body > RECORD_BYTES_MAX) {
      throw new RangeError(
        `Message on "${subject}" of ${n} bytes makes a record over the limit of ${RECORD_BYTES_MAX} bytes`,
      );
    }
    const size = 8 + body;
    if (this.#used + size > this.#buf.byteLength) {
      this.#writeOut();
      if (size > this.#buf.byteLength) {
        this.#buf = new Uint8Array(size);
        this.#view = new DataView(this.#buf.buffer);
      }
    }
    const b = this.#buf, v = this.#view;
    const start = this.#used;
    let p = start + 8;
    b[p++] = head ? 0x94 : 0x93;
    const sl = subj.byteLength;
    if (strHead === 1) b[p++] = 0xa0 | sl;
    else if (strHead === 2) (b[p++] = 0xd9, b[p++] = sl);
    else if (strHead === 3) (b[p++] = 0xda, v.setUint16(p, sl), p += 2);
    else (b[p++] = 0xdb, v.setUint32(p, sl), p += 4);
    b.set(subj, p);
    p += sl;
    b[p++] = 0xcf; // uint 64, big-endian as msgpack has it
    v.setUint32(p, Math.floor(tUs / 0x1_0000_0000));
    v.setUint32(p + 4, tUs >>> 0);
    p += 8;
    if (binHead === 2) (b[p++] = 0xc4, b[p++] = n);
    else if (binHead === 3) (b[p++] = 0xc5, v.setUint16(p, n), p += 2);
    else (b[p++] = 0xc6, v.setUint32(p, n), p += 4);
    b.set(data, p);
    p += n;
    if (head) {
      b.set(head, p);
      p += head.byteLength;
    }
    v.setUint32(start, body, true);
    v.setUint32(start + 4, crc32(b, start + 8, p), true);
    this.#used = p;
    this.records++;
    this.bytes += size;
  }

  /** Writes what is buffered to the file. */
  flush(): void {
    this.#writeOut();
  }

  /** Writes what is buffered, fsyncs and closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#writeOut();
    this.#closed = true;
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

// --- reading ---------------------------------------------------------------------------------

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
  /** Byte length of the header; records start here. */
  readonly headerBytes: number;
  /** The file's size when it was opened. */
  readonly fileBytes: number;
  /** Set once reading stops before the end of the file; undefined for a complete recording. */
  cut: RecordingCut | undefined;
  /** Complete records read so far. */
  records = 0;
  readonly #chunkBytes: number;

  private constructor(
    path: string,
    header: RecordingHeader,
    headerBytes: number,
    fileBytes: number,
    chunkBytes: number,
  ) {
    this.path = path;
    this.header = header;
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
          `${path} is cut inside its header: ${size} bytes, the header alone takes ${RECORDING_PREFIX_BYTES}`,
        );
      }
      const view = new DataView(prefix.buffer);
      const version = view.getUint32(8, true);
      if (version !== RECORDING_FORMAT_VERSION) {
        throw new RecordingFormatError(
          path,
          `${path} is a recording of format version ${version}; this troupe (${TROUPE_VERSION}) reads format version ${RECORDING_FORMAT_VERSION}`,
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
      const header = parseHeader(path, body, version);
      return new RecordingReader(
        path,
        header,
        RECORDING_PREFIX_BYTES + length,
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
      this.records = 0;
      while (true) {
        const { batch, p, stop } = parseRecords(buf, filePos, index);
        index += batch.length;
        this.records = index;
        if (batch.length) yield batch;
        if (stop !== undefined) {
          this.cut = {
            offset: filePos + p,
            records: index,
            bytesLeft: this.fileBytes - filePos - p,
            reason: stop,
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

  /** The records one by one (see `batches`). */
  async *messages(): AsyncGenerator<RecordedMessage> {
    for await (const batch of this.batches()) yield* batch;
  }
}

function parseHeader(path: string, body: Uint8Array, version: number): RecordingHeader {
  let raw: unknown;
  try {
    raw = decodeValue(body);
  } catch (err) {
    throw new RecordingFormatError(path, `${path}: the header is not msgpack`, {
      version,
      cause: err,
    });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new RecordingFormatError(path, `${path}: the header is not a map`, { version });
  }
  const m = raw as Record<string, unknown>;
  const text = (k: string, fallback: string) =>
    typeof m[k] === "string" ? m[k] as string : fallback;
  const config = m.config !== null && typeof m.config === "object" && !Array.isArray(m.config)
    ? m.config as RecordingConfig
    : null;
  return {
    format: version,
    troupe: text("troupe", "unknown"),
    created_us: typeof m.created_us === "number" ? m.created_us : 0,
    source: text("source", "unknown"),
    bus: text("bus", "unknown"),
    subjects: text("subjects", "troupe.>"),
    config,
    seed: typeof m.seed === "number" ? m.seed : null,
  };
}

const utf8d = new TextDecoder();

function le32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function be16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function be32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/**
 * Decodes a record body as the writer lays it out (fixarray, str, uint 64, bin, then a headers
 * map), without the generic decoder's allocations; undefined for any other msgpack encoding of
 * the same values, which `parseRecord` then decodes the generic way.
 */
function parseRecordFast(
  b: Uint8Array,
  index: number,
  offset: number,
): RecordedMessage | undefined {
  const n = b.byteLength;
  if (n < 12) return undefined;
  const arr = b[0]!;
  if (arr !== 0x93 && arr !== 0x94) return undefined;
  let p = 1;
  const h = b[p++]!;
  let sl: number;
  if ((h & 0xe0) === 0xa0) sl = h & 0x1f;
  else if (h === 0xd9) sl = b[p++]!;
  else if (h === 0xda) (sl = be16(b, p), p += 2);
  else return undefined;
  if (p + sl + 9 > n) return undefined;
  const subject = utf8d.decode(b.subarray(p, p + sl));
  p += sl;
  if (b[p++] !== 0xcf) return undefined;
  const tUs = be32(b, p) * 0x1_0000_0000 + be32(b, p + 4);
  p += 8;
  const bh = b[p++];
  let dl: number;
  if (bh === 0xc4) dl = b[p++]!;
  else if (bh === 0xc5) (dl = be16(b, p), p += 2);
  else if (bh === 0xc6) (dl = be32(b, p), p += 4);
  else return undefined;
  if (p + dl > n) return undefined;
  const data = b.subarray(p, p + dl);
  p += dl;
  let headers: Record<string, string> | undefined;
  if (arr === 0x94) {
    let raw: unknown;
    try {
      raw = decodeValue(b.subarray(p));
    } catch {
      return undefined;
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return undefined;
    headers = raw as Record<string, string>;
  } else if (p !== n) return undefined;
  return { subject, tUs, data, headers, index, offset };
}

/** Decodes a record body, or says why it is not one. */
function parseRecord(body: Uint8Array, index: number, offset: number): RecordedMessage | string {
  const fast = parseRecordFast(body, index, offset);
  if (fast) return fast;
  let raw: unknown;
  try {
    raw = decodeValue(body);
  } catch {
    return `record ${index} is not msgpack`;
  }
  if (!Array.isArray(raw) || raw.length < 3 || raw.length > 4) {
    return `record ${index} is not an array [subject, t_us, data, headers?]`;
  }
  const [subject, t, data, headers] = raw as [unknown, unknown, unknown, unknown];
  const tUs = typeof t === "bigint" ? Number(t) : t;
  if (typeof subject !== "string" || typeof tUs !== "number" || !(data instanceof Uint8Array)) {
    return `record ${index} is not an array [subject, t_us, data, headers?]`;
  }
  let h: Record<string, string> | undefined;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== "object" || Array.isArray(headers)) {
      return `record ${index}'s headers are not a map`;
    }
    h = headers as Record<string, string>;
  }
  return { subject, tUs, data, headers: h, index, offset };
}

function describeBytes(b: Uint8Array): string {
  if (b.byteLength === 0) return "nothing (the file is empty)";
  const printable = [...b].every((c) => c >= 0x20 && c < 0x7f);
  return printable
    ? JSON.stringify(String.fromCharCode(...b))
    : [...b].map((c) => c.toString(16).padStart(2, "0")).join(" ");
}

/**
 * The complete records at the start of `buf` (at file offset `filePos`), numbered from `index`:
 * them, where they end in `buf`, and why parsing stopped short of its end at a bad record, if it
 * did (a partial record at its end is not one: the next chunk completes it).
 */
function parseRecords(
  buf: Uint8Array,
  filePos: number,
  index: number,
): { batch: RecordedMessage[]; p: number; stop: string | undefined } {
  const batch: RecordedMessage[] = [];
  let p = 0;
  while (buf.byteLength - p >= 8) {
    const i = index + batch.length;
    const length = le32(buf, p);
    if (length === 0 || length > RECORD_BYTES_MAX) {
      return { batch, p, stop: `record ${i} has a bad length of ${length} bytes` };
    }
    if (buf.byteLength - p - 8 < length) break;
    const body = buf.subarray(p + 8, p + 8 + length);
    if (crc32(body) !== le32(buf, p + 4)) {
      return { batch, p, stop: `record ${i}'s checksum does not match` };
    }
    const msg = parseRecord(body, i, filePos + p);
    if (typeof msg === "string") return { batch, p, stop: msg };
    batch.push(msg);
    p += 8 + length;
  }
  return { batch, p, stop: undefined };
}
