/**
 * The dashboard's reader of the anomaly actor's columns messages (anomaly_columns.ts), most of what
 * its stream carries: one pass over the msgpack bytes that checks what `decodeEnvelope` and
 * `columnsFrameOf` check, and copies the frame's times and band (as `anomalyBandOf` gives it)
 * straight into typed columns the reader keeps. No map, string, view or array is made per message:
 * decoding one generically made about twenty objects and two ArrayBuffers, most of the page's
 * message handling and of its garbage (`troupe bench dashboard` measures the page's share).
 *
 * It reads only what it can check in place. A message in any other form (another type, a key,
 * column or encoding it does not know, a band it cannot make, anything malformed) is not read:
 * `read` returns NOT_READ and the caller decodes it with `decodeEnvelope` and `columnsFrameOf`,
 * which read it or throw the error that names what is wrong. So what it reads, those would read
 * the same, value for value.
 */
import { MESSAGE_BYTES_MAX_DEFAULT, PROTOCOL_VERSION } from "./envelope.ts";
import { COLUMNS_TYPE } from "./columns_frame.ts";

/** What `read` returns for a message it leaves to the general decoder. */
export const NOT_READ = -1;

/** Bounds of the reader: its columns hold at most a message's worth of 8-byte values. */
export const ANOMALY_READER_LIMITS = { samples_max: MESSAGE_BYTES_MAX_DEFAULT / 8 } as const;

/** The columns a read fills, in this order: what a chart's ring holds. */
export const READ_COLUMNS = ["t", "value", "expected", "lower", "upper"] as const;

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
/** Copies under this many bytes go byte by byte (a view to copy through costs more). */
const COPY_LOOP_BYTES_MAX = 256;

const ENVELOPE_KEYS = asciiBytes(["v", "id", "type", "src", "ts", "seq", "corr", "cause", "body"]);
/** Indexes in ENVELOPE_KEYS (a bit each in the fields seen). */
const K_V = 0, K_ID = 1, K_TYPE = 2, K_SRC = 3, K_TS = 4, K_SEQ = 5, K_CORR = 6, K_CAUSE = 7;
/** The envelope's fields a message must have (all but seq, corr and cause). */
const ENVELOPE_REQUIRED = 0b100011111;
const BODY_KEYS = asciiBytes(["channel", "seq0", "t", "columns"]);
const B_CHANNEL = 0, B_SEQ0 = 1, B_T = 2, BODY_REQUIRED = 0b1111;
/** The columns read: the anomaly actor's, and the band's edges of frames of the older form. */
const WIRE_COLUMNS = asciiBytes(["score", "expected", "spread", "value", "lower", "upper"]);
const W_SCORE = 0, W_EXPECTED = 1, W_SPREAD = 2, W_VALUE = 3, W_LOWER = 4, W_UPPER = 5;
/** The slot of `t` beside the wire columns. */
const W_T = WIRE_COLUMNS.length;
const TYPE_COLUMNS = asciiBytes([COLUMNS_TYPE]);
/** A channel name's bytes: `[A-Za-z0-9_-]`, 1 to 64 of them (subjects.ts's isValidName). */
const NAME_BYTES_MAX = 64;
/** What the reader holds between reads (it keeps no message). */
const NO_BYTES = new Uint8Array(0);

/** Reads anomaly columns messages into columns it keeps (see the module's note). */
export class AnomalyColumnsReader {
  #message: Uint8Array = NO_BYTES;
  #pos = 0;
  /** Where each wire column's bytes start (-1: absent) and how many there are (`t` at W_T). */
  readonly #at = new Int32Array(W_T + 1);
  readonly #len = new Int32Array(W_T + 1);
  #cols: Float64Array[] = [];
  #bytes: Uint8Array[] = [];
  /** The scores `readScores` copies out (apart from `columns`, which it leaves as they were). */
  #scores = new Float64Array(16);
  #scoreBytes = new Uint8Array(this.#scores.buffer);

  constructor() {
    this.#grow(16);
  }

  /**
   * The last message read, in READ_COLUMNS' order (`t` in microseconds): its samples are the
   * first `read` returned of each, valid until the next read.
   */
  get columns(): readonly Float64Array[] {
    return this.#cols;
  }

  /** Reads `bytes` into `columns`: the samples read, or NOT_READ (see the module's note). */
  read(bytes: Uint8Array): number {
    const n = this.#located(bytes) ? this.#band() : NOT_READ;
    this.#message = NO_BYTES;
    return n;
  }

  /**
   * Whether `bytes` is a message this reader reads in place: the envelope and body checked, each
   * wire column's place in `#at` and `#len`; `#message` holds it until the caller lets it go.
   */
  #located(bytes: Uint8Array): boolean {
    if (!LITTLE_ENDIAN || bytes.length > MESSAGE_BYTES_MAX_DEFAULT) return false;
    this.#message = bytes;
    this.#pos = 0;
    this.#at.fill(-1);
    return this.#envelope() && this.#pos === bytes.length;
  }

  /**
   * The highest and the last score of an anomaly columns message, as `decodeAnomalyColumns`
   * gives its `score`, into `out[0]` and `out[1]` (the highest -Infinity when every score is
   * NaN; `out` left as it was for a frame of no sample): the samples read, or NOT_READ for a
   * message it leaves to `decodeAnomalyColumns` (see the module's note). A message must carry the
   * columns that decoder requires (`score`, `expected`, `spread`, `value`); `columns` is not
   * touched.
   */
  readScores(bytes: Uint8Array, out: Float64Array): number {
    const ok = this.#located(bytes);
    const at = this.#at;
    let n = NOT_READ;
    if (
      ok && at[W_SCORE]! >= 0 && at[W_EXPECTED]! >= 0 && at[W_SPREAD]! >= 0 && at[W_VALUE]! >= 0
    ) {
      const size = this.#len[W_SCORE]!;
      n = size / 8;
      if (this.#scores.length < n) {
        this.#scores = new Float64Array(n);
        this.#scoreBytes = new Uint8Array(this.#scores.buffer);
      }
      const scores = this.#scores;
      copyBytes(bytes, at[W_SCORE]!, this.#scoreBytes, size);
      let max = -Infinity;
      for (let i = 0; i < n; i++) if (scores[i]! > max) max = scores[i]!;
      if (n > 0) {
        out[0] = max;
        out[1] = scores[n - 1]!;
      }
    }
    this.#message = NO_BYTES;
    return n;
  }

  /** The envelope: each field once, those required all there, `type` "columns". */
  #envelope(): boolean {
    const fields = this.#mapHeader();
    let seen = 0;
    for (let i = 0; i < fields; i++) {
      const k = this.#key(ENVELOPE_KEYS);
      if (k < 0 || (seen & (1 << k)) !== 0) return false;
      seen |= 1 << k;
      let ok: boolean;
      if (k === K_V) ok = this.#uint() === PROTOCOL_VERSION;
      else if (k === K_ID || k === K_SRC || k === K_CORR || k === K_CAUSE) ok = this.#ascii() >= 0;
      else if (k === K_TYPE) ok = this.#key(TYPE_COLUMNS) === 0;
      else if (k === K_TS || k === K_SEQ) ok = this.#uint() >= 0;
      else ok = this.#body();
      if (!ok) return false;
    }
    return (seen & ENVELOPE_REQUIRED) === ENVELOPE_REQUIRED;
  }

  /** The body: a valid channel name, `seq0`, `t` and its columns, each as long as `t`. */
  #body(): boolean {
    const fields = this.#mapHeader();
    let seen = 0;
    for (let i = 0; i < fields; i++) {
      const k = this.#key(BODY_KEYS);
      if (k < 0 || (seen & (1 << k)) !== 0) return false;
      seen |= 1 << k;
      let ok: boolean;
      if (k === B_CHANNEL) ok = this.#name();
      else if (k === B_SEQ0) ok = this.#uint() >= 0;
      else if (k === B_T) ok = this.#column(W_T);
      else ok = this.#columns();
      if (!ok) return false;
    }
    if (seen !== BODY_REQUIRED) return false;
    const tBytes = this.#len[W_T]!;
    for (let c = 0; c < W_T; c++) {
      if (this.#at[c]! >= 0 && this.#len[c] !== tBytes) return false;
    }
    return true;
  }

  /** The columns map: names it knows, each once. */
  #columns(): boolean {
    const count = this.#mapHeader();
    for (let i = 0; i < count; i++) {
      const c = this.#key(WIRE_COLUMNS);
      if (c < 0 || this.#at[c]! >= 0 || !this.#column(c)) return false;
    }
    return count >= 0;
  }

  /** A bin of 8-byte values, kept as wire column `c` (W_T: `t`). */
  #column(c: number): boolean {
    const b = this.#message, at = this.#pos, tag = b[at];
    let head: number, n: number;
    // (A header past the end reads its missing bytes as 0: the bounds check below refuses it.)
    if (tag === 0xc4) (head = 2), (n = b[at + 1] ?? 0);
    else if (tag === 0xc5) (head = 3), (n = ((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0));
    else if (tag === 0xc6) {
      head = 5;
      n = (((b[at + 1] ?? 0) << 24) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 8) |
        (b[at + 4] ?? 0)) >>> 0;
    } else return false;
    if (at + head + n > b.length || n % 8 !== 0) return false;
    this.#at[c] = at + head;
    this.#len[c] = n;
    this.#pos = at + head + n;
    return true;
  }

  /** The band as `anomalyBandOf` makes it, with `t`, copied into the columns; or NOT_READ. */
  #band(): number {
    const at = this.#at, t = W_T;
    const expected = at[W_EXPECTED]!, spread = at[W_SPREAD]!;
    const value = at[W_VALUE]! >= 0 ? at[W_VALUE]! : expected;
    if (expected < 0 || (spread < 0 && (at[W_LOWER]! < 0 || at[W_UPPER]! < 0))) return NOT_READ;
    const bytes = this.#len[t]!, n = bytes / 8;
    this.#grow(n);
    const to = this.#bytes, b = this.#message;
    copyBytes(b, at[t]!, to[0]!, bytes);
    copyBytes(b, value, to[1]!, bytes);
    copyBytes(b, expected, to[2]!, bytes);
    if (spread < 0) {
      copyBytes(b, at[W_LOWER]!, to[3]!, bytes);
      copyBytes(b, at[W_UPPER]!, to[4]!, bytes);
      return n;
    }
    // The edges from the half-width, the same two operations anomalyBandOf does.
    copyBytes(b, spread, to[4]!, bytes);
    const e = this.#cols[2]!, lower = this.#cols[3]!, upper = this.#cols[4]!;
    for (let i = 0; i < n; i++) {
      const s = upper[i]!;
      lower[i] = e[i]! - s;
      upper[i] = e[i]! + s;
    }
    return n;
  }

  /** Columns of at least `n` samples (n is bounded by the message's size). */
  #grow(n: number): void {
    if ((this.#cols[0]?.length ?? 0) >= n) return;
    const size = Math.min(
      ANOMALY_READER_LIMITS.samples_max,
      Math.max(n, 2 * (this.#cols[0]?.length ?? 0)),
    );
    this.#cols = READ_COLUMNS.map(() => new Float64Array(size));
    this.#bytes = this.#cols.map((c) => new Uint8Array(c.buffer));
  }

  /** A map's entry count, or -1 for anything else. */
  #mapHeader(): number {
    const b = this.#message, at = this.#pos, tag = b[at];
    if (tag === undefined) return -1;
    if (tag >= 0x80 && tag <= 0x8f) {
      this.#pos = at + 1;
      return tag & 0x0f;
    }
    if (tag === 0xde && at + 3 <= b.length) {
      this.#pos = at + 3;
      return (b[at + 1]! << 8) | b[at + 2]!;
    }
    return -1;
  }

  /** A string's length, its bytes' start at #pos - length; -1 for anything else or past the end. */
  #str(): number {
    const b = this.#message, at = this.#pos, tag = b[at];
    let head: number, n: number;
    if (tag === undefined) return -1;
    if (tag >= 0xa0 && tag <= 0xbf) (head = 1), (n = tag & 0x1f);
    else if (tag === 0xd9) (head = 2), (n = b[at + 1] ?? 0);
    else if (tag === 0xda) (head = 3), (n = ((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0));
    else return -1;
    if (at + head + n > b.length) return -1;
    this.#pos = at + head + n;
    return n;
  }

  /** Which of `keys` the string here is, or -1 (not a string, or none of them). */
  #key(keys: readonly Uint8Array[]): number {
    const n = this.#str();
    if (n < 0) return -1;
    const b = this.#message, from = this.#pos - n;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      if (key.length !== n) continue;
      let i = 0;
      while (i < n && b[from + i] === key[i]) i++;
      if (i === n) return k;
    }
    return -1;
  }

  /** An ASCII string's length (ASCII is valid UTF-8 as it is), or -1. */
  #ascii(): number {
    const n = this.#str();
    if (n < 0) return -1;
    const b = this.#message;
    for (let i = this.#pos - n; i < this.#pos; i++) if (b[i]! >= 0x80) return -1;
    return n;
  }

  /** Whether the string here is a valid channel name. */
  #name(): boolean {
    const n = this.#str();
    if (n < 1 || n > NAME_BYTES_MAX) return false;
    const b = this.#message;
    for (let i = this.#pos - n; i < this.#pos; i++) {
      const c = b[i]!;
      const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
        c === 0x5f || c === 0x2d;
      if (!ok) return false;
    }
    return true;
  }

  /** A non-negative safe integer, or -1 for anything else. */
  #uint(): number {
    const b = this.#message, at = this.#pos, tag = b[at];
    let head: number, x: number;
    if (tag === undefined) return -1;
    if (tag < 0x80) (head = 1), (x = tag);
    else if (tag === 0xcc) (head = 2), (x = b[at + 1] ?? 0);
    else if (tag === 0xcd) (head = 3), (x = ((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0));
    else if (tag === 0xce || tag === 0xcf) {
      head = tag === 0xce ? 5 : 9;
      const hi = (((b[at + 1] ?? 0) << 24) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 8) |
        (b[at + 4] ?? 0)) >>> 0;
      if (head === 5) x = hi;
      else {
        const lo = (((b[at + 5] ?? 0) << 24) | ((b[at + 6] ?? 0) << 16) | ((b[at + 7] ?? 0) << 8) |
          (b[at + 8] ?? 0)) >>> 0;
        x = hi * 4294967296 + lo;
        if (!Number.isSafeInteger(x)) return -1;
      }
    } else return -1;
    if (at + head > b.length) return -1;
    this.#pos = at + head;
    return x;
  }
}

/** Copies `n` bytes of `from` at `at` to the start of `to`. */
function copyBytes(from: Uint8Array, at: number, to: Uint8Array, n: number): void {
  if (n >= COPY_LOOP_BYTES_MAX) {
    to.set(from.subarray(at, at + n));
    return;
  }
  for (let i = 0; i < n; i++) to[i] = from[at + i]!;
}

/** Names as their ASCII bytes, to compare with a message's. */
function asciiBytes(names: readonly string[]): Uint8Array[] {
  return names.map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0)));
}
