/**
 * The recording file format (its writer is `recording_writer.ts`, its reader `recording_reader.ts`,
 * the records' encoding `_record_codec.ts`). A recording holds everything
 * that crossed the bus in a session (feeds, control, collab updates, actor outputs, dead letters),
 * each message with its subject and the time it was received, so that `troupe replay` can feed the
 * inputs back through fresh actors and compare what they publish with what was published.
 *
 * Format version 3, or 4 for a file with a start section (version 2 had no trailer and is read as
 * before; version 1 used CRC-32C). All integers little-endian; CRC-32 (zlib) as in the journal.
 *
 * ```
 * header   offset 0   8 bytes  magic, ASCII "TROUPREC"
 *          offset 8   u32      format version: 3, or 4 with a start section
 *          offset 12  u32      H, the byte length of the header body
 *          offset 16  u32      CRC-32 of the header body
 *          offset 20  H bytes  header body: a msgpack map
 *                       troupe      str        version of troupe that wrote the file
 *                       created_us  int        wall-clock start of the recording, µs since the
 * epoch
 *                       source      str        what recorded it: "troupe up", "troupe record"
 *                       bus         str        "in-process" or the NATS URL recorded from
 *                       subjects    str        the subject patterns recorded, comma-separated
 *                       config      map | nil  the cluster's configuration when known:
 *                                              { actors: { <kind>: {...} }, limits?: {...} }
 *                       seed        int | nil  the seed of the synthetic feed, when there was one
 *                       start_bytes int        bytes of the start section after the header (0 or
 *                                              absent: none; format 4)
 *                       versions    map | nil  each actor kind's version where the recording was
 *                                              made: { <kind>: int } (absent in older files)
 *                       kinds       arr | nil  the user's kind modules that ran, each a map
 *                                              { module: str, kinds: { <kind>: int } }: a path
 *                                              (absolute) or a package name, and the kinds it
 *                                              defined with their versions (absent: troupe's
 *                                              own kinds only, and in older files)
 *                       findings_once bool     true: each finding is recorded once, on
 *                                              troupe.finding.<type>.<key> (absent in older
 *                                              files, whose findings are also on troupe.out.*)
 *                       (readers ignore keys they do not know)
 * start    start_bytes  the actors' state at the start of a recording begun mid-session, as
 *                       the hosts answered the recorder (see recording_start.ts)
 * record   u32      L, the byte length of the body (1 to 64 MiB)
 *          u32      CRC-32 of the body
 *          L bytes  body: a msgpack array [subject, t_us, data] or [subject, t_us, data, headers]
 *                     subject  str                 the subject the message was published on
 *                     t_us     int                 receive time, µs since the epoch (recorder's
 * clock)
 *                     data     bin                 the message bytes, exactly as received
 *                     headers  map str -> str      message headers (e.g. Nats-Msg-Id), when any
 * trailer  u32, u32 and L bytes as a record, but the body is a msgpack map (a record's is an
 * array):
 *            end      str   "TROUPEND"
 *            records  int   the records before the trailer
 *            bytes    int   the file's bytes before the trailer (header included)
 *            outputs_cut  true  (when so) the recorder stopped waiting for the outputs of its
 *                               last inputs before they were quiet: a replay cannot check those
 *                               it makes past each subject's last recorded output
 * ```
 *
 * Records follow the header back to back until the end of the file, in the order the recorder
 * received them; the writer ends a file it closes with the trailer, so that a whole recording says
 * so. A file cut short (a recorder killed mid-write, a disk full, a copy cut at some byte) has no
 * trailer: the reader delivers every complete record before the cut and then reports the byte
 * offset of the cut and why (a partial length prefix, a partial body, a bad length, a CRC
 * mismatch, or, for a cut between two records, no trailer at all). A file of format version 2
 * has no trailer and is read as before (whether it is whole cannot be told); a file of another
 * format version is refused with an error naming the versions.
 */
import { crc32 } from "../../actors/runtime/mod.ts";
import { ALL_SUBJECTS, decodeValue, encodeValue, TROUPE_VERSION } from "../../protocol/mod.ts";
import type { UnreadRecords } from "./_recording_resync.ts";

/** The format version this code writes for a file without a start section. */
export const RECORDING_FORMAT_VERSION = 3;

/**
 * The format version of a file with a start section (a recording begun mid-session); one without
 * is written as version 3, which a troupe that knows no start sections still reads.
 */
export const RECORDING_START_FORMAT_VERSION = 4;

/** The format versions this code reads: 2 (no trailer), 3 (no start section) and 4. */
export const RECORDING_FORMAT_VERSIONS_READ: readonly number[] = [2, 3, 4];

/** The first format version whose writer ends a closed file with a trailer. */
export const RECORDING_TRAILER_VERSION = 3;

/** The `end` of a trailer's body. */
const TRAILER_END = "TROUPEND";

/** What a recording's trailer says: the file was closed with this much in it. */
export interface RecordingTrailer {
  /** Records before the trailer. */
  records: number;
  /** Bytes before the trailer, header included. */
  bytes: number;
  /**
   * The recorder stopped waiting for the outputs of its last inputs before they were quiet (a host
   * lagging its inputs by more than it waits): some of them may not be in the file.
   */
  outputsCut?: boolean;
}

/** Encodes a trailer (length, CRC, msgpack map body). */
export function encodeRecordingTrailer(trailer: RecordingTrailer): Uint8Array {
  const body = encodeValue({
    end: TRAILER_END,
    records: trailer.records,
    bytes: trailer.bytes,
    ...(trailer.outputsCut ? { outputs_cut: true } : {}),
  });
  const out = new Uint8Array(8 + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.byteLength, true);
  view.setUint32(4, crc32(body), true);
  out.set(body, 8);
  return out;
}

/**
 * Whether a record body (its CRC checked) is a trailer's: a msgpack map, where records are arrays.
 */
export function isTrailerBody(body: Uint8Array): boolean {
  const b = body[0]!;
  return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
}

/** Decodes a trailer's body, or says why it is not one. */
export function parseRecordingTrailer(body: Uint8Array): RecordingTrailer | string {
  let raw: unknown;
  try {
    raw = decodeValue(body);
  } catch {
    return "the trailer is not msgpack";
  }
  const m = raw as Record<string, unknown>;
  const count = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  if (m?.end !== TRAILER_END || !count(m.records) || !count(m.bytes)) {
    return `the trailer is not { end: "${TRAILER_END}", records, bytes }`;
  }
  return {
    records: m.records as number,
    bytes: m.bytes as number,
    ...(m.outputs_cut === true ? { outputsCut: true } : {}),
  };
}

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
  /** Bytes of the start section after the header (0: none). */
  start_bytes: number;
  /**
   * Each actor kind's version (ActorDefinition.version) where the recording was made; null in a
   * file written before recordings noted them. A replay compares only the outputs of kinds whose
   * version is the one it runs.
   */
  versions: Record<string, number> | null;
  /**
   * The user's kind modules the recorded cluster ran, so that a replay loads them again without
   * being told; null when only troupe's own kinds ran, and in older files.
   */
  kinds: RecordingKindModule[] | null;
  /**
   * Whether the recorded cluster published each finding once, on `troupe.finding.<type>.<key>`;
   * false in older files, whose findings are on their actor's `troupe.out.<kind>.<key>` too.
   */
  findings_once: boolean;
}

/** A module of a user's kinds, as a recording names it. */
export interface RecordingKindModule {
  /** An absolute path, or a package name. */
  module: string;
  /** The kinds it defined, with their versions. */
  kinds: Record<string, number>;
}

/** Kind modules a header names, at most (as a host configuration may). */
export const RECORDING_KIND_MODULES_MAX = 64;

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
  & Partial<Omit<RecordingHeader, "format" | "troupe" | "start_bytes">>
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
  /** Intact records after the cut, not read: none for a torn tail (a recorder stopped
   *  mid-write), some where the cut is damage in the middle of the file. */
  unread: UnreadRecords;
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

/** Encodes a recording's header (magic, version, length, CRC, msgpack body). */
export function encodeRecordingHeader(
  init: RecordingHeaderInit,
  createdUs: number,
  startBytes = 0,
): Uint8Array {
  const body = encodeValue({
    troupe: TROUPE_VERSION,
    created_us: init.created_us ?? createdUs,
    source: init.source,
    bus: init.bus ?? "in-process",
    subjects: init.subjects ?? ALL_SUBJECTS,
    config: init.config ?? null,
    seed: init.seed ?? null,
    ...(startBytes > 0 ? { start_bytes: startBytes } : {}),
    versions: init.versions ?? null,
    ...(init.kinds?.length ? { kinds: init.kinds } : {}),
    findings_once: init.findings_once ?? true,
  });
  const out = new Uint8Array(RECORDING_PREFIX_BYTES + body.byteLength);
  const view = new DataView(out.buffer);
  out.set(RECORDING_MAGIC, 0);
  view.setUint32(
    8,
    startBytes > 0 ? RECORDING_START_FORMAT_VERSION : RECORDING_FORMAT_VERSION,
    true,
  );
  view.setUint32(12, body.byteLength, true);
  view.setUint32(16, crc32(body), true);
  out.set(body, RECORDING_PREFIX_BYTES);
  return out;
}

/** Decodes a recording's header body (read after its prefix was checked). */
export function parseRecordingHeader(
  path: string,
  body: Uint8Array,
  version: number,
): RecordingHeader {
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
    subjects: text("subjects", ALL_SUBJECTS),
    config,
    seed: typeof m.seed === "number" ? m.seed : null,
    start_bytes: version >= RECORDING_START_FORMAT_VERSION && typeof m.start_bytes === "number"
      ? m.start_bytes
      : 0,
    versions: versionsOf(m.versions),
    kinds: kindModulesOf(path, m.kinds, version),
    findings_once: m.findings_once === true,
  };
}

/**
 * The header's `kinds` list; null when absent. A malformed one is refused naming the entry: a
 * replay that ignored it would run without the kinds the recording was made with.
 */
function kindModulesOf(path: string, raw: unknown, version: number): RecordingKindModule[] | null {
  if (raw === undefined || raw === null) return null;
  const bad = (why: string) =>
    new RecordingFormatError(path, `${path}: the header's kinds ${why}`, { version });
  if (!Array.isArray(raw)) throw bad(`must be a list, got ${typeof raw}`);
  if (raw.length > RECORDING_KIND_MODULES_MAX) {
    throw bad(`name ${raw.length} modules, at most ${RECORDING_KIND_MODULES_MAX}`);
  }
  return raw.map((entry, i) => {
    const e = entry as Partial<RecordingKindModule> | null;
    if (typeof e?.module !== "string" || e.module === "") {
      throw bad(
        `[${i}].module must be a module path or package name, got ${JSON.stringify(e?.module)}`,
      );
    }
    const kinds = versionsOf(e.kinds);
    if (kinds === null) throw bad(`[${i}].kinds must map kind names to versions`);
    return { module: e.module, kinds };
  });
}

/** The header's `versions` map: kind names to integer versions; null when absent or not one. */
function versionsOf(raw: unknown): Record<string, number> | null {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return null;
  const out: Record<string, number> = {};
  for (const [kind, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === "number" && Number.isInteger(v)) out[kind] = v;
  }
  return out;
}
