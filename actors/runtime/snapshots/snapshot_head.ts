/**
 * A stored snapshot's head: its stream, machine version, journal position and meta, read from its
 * bytes (magic and CRC checked) with its machine and kernel passed over, not decoded. A host's
 * start needs only the head of most of its snapshots then (an instance with nothing journaled past
 * its snapshot is restored later: Slot.dormant), where decoding each machine's persisted snapshot
 * would make objects by the hundred thousand, held until their instances are restored. The body
 * is decoded, and checked as `decodeSnapshot` checks it, when the instance is made
 * (`decodeSnapshotBody`).
 */
import {
  checkSnapshot,
  checkSnapshotBytes,
  type Snapshot,
  SNAPSHOT_FORMAT,
  SNAPSHOT_HEADER_BYTES,
  SnapshotCorruptError,
  type SnapshotHead,
} from "./snapshot_store.ts";
import { decodeValue } from "../../../protocol/mod.ts";

/** Reads the head of snapshot bytes; throws a SnapshotCorruptError saying what is wrong. */
export function readSnapshotHead(bytes: Uint8Array): SnapshotHead {
  checkSnapshotBytes(bytes);
  // The body, a msgpack map.
  const map = bytes.subarray(SNAPSHOT_HEADER_BYTES);
  const fail = (what: string) => new SnapshotCorruptError(`Cannot decode a snapshot: ${what}`);
  const t = map[0];
  let n: number, at: number;
  if (t !== undefined && t >= 0x80 && t <= 0x8f) [n, at] = [t & 0x0f, 1];
  else if (t === 0xde && map.length >= 3) [n, at] = [(map[1]! << 8) | map[2]!, 3];
  else throw fail("the body is not a map");
  const fields: Partial<Record<Field, unknown>> = {};
  let kernel: number | undefined;
  try {
    for (let i = 0; i < n; i++) {
      const keyEnd = skipValue(map, at);
      const key = fieldAt(map, at, keyEnd);
      if (key === undefined && typeof decodeValue(map.subarray(at, keyEnd)) !== "string") {
        throw fail(`a key at byte ${at} of its body is not a string`);
      }
      const end = skipValue(map, keyEnd);
      if (key === "kernel") kernel = map[keyEnd];
      else if (key !== undefined && key !== "machine") fields[key] = valueAt(map, keyEnd, end);
      at = end;
    }
  } catch (err) {
    throw err instanceof SnapshotCorruptError ? err : fail((err as Error).message);
  }
  if (at !== map.length) throw fail(`${map.length - at} bytes left over after the body`);
  if (fields.f !== SNAPSHOT_FORMAT) {
    throw fail(`format ${String(fields.f)}, this code reads ${SNAPSHOT_FORMAT}`);
  }
  const head: SnapshotHead = {
    stream: fields.stream as string,
    version: fields.version as number,
    pos: fields.pos as number,
    body: () => bytes,
  };
  if (fields.meta !== undefined) head.meta = fields.meta as Record<string, number | string>;
  // The kernel's bytes are checked for their type (bin) only: a view of them is all a restore
  // takes.
  const isBin = kernel === 0xc4 || kernel === 0xc5 || kernel === 0xc6;
  // The fields checked in a literal, not a spread of `head`: made for each of a start's many
  // heads, a spread takes V8's slow path of copying an object (it holds a closure).
  const checked: Snapshot = {
    stream: head.stream,
    version: head.version,
    pos: head.pos,
    machine: undefined,
    kernel: isBin ? EMPTY : undefined as never,
  };
  if (head.meta !== undefined) checked.meta = head.meta;
  try {
    checkSnapshot(checked);
  } catch (err) {
    throw fail((err as Error).message);
  }
  return head;
}

/** The body's fields (`encodeSnapshot`); others are passed over, as the decoder leaves them. */
const FIELDS = ["f", "stream", "version", "pos", "machine", "kernel", "meta"] as const;
type Field = typeof FIELDS[number];

/** The field whose name is the key from `at` to `end` of `b` (a short string), if it is one. */
function fieldAt(b: Uint8Array, at: number, end: number): Field | undefined {
  const n = end - at - 1;
  if (b[at] !== 0xa0 + n) return undefined;
  next: for (const f of FIELDS) {
    if (f.length !== n) continue;
    for (let i = 0; i < n; i++) if (b[at + 1 + i] !== f.charCodeAt(i)) continue next;
    return f;
  }
  return undefined;
}

/** The value from `at` to `end` of `b`: a small unsigned integer read here, any other decoded. */
function valueAt(b: Uint8Array, at: number, end: number): unknown {
  const t = b[at]!;
  if (t < 0x80) return t;
  if (t === 0xcc && end === at + 2) return b[at + 1];
  if (t === 0xcd && end === at + 3) return (b[at + 1]! << 8) | b[at + 2]!;
  if (t === 0xce && end === at + 5) {
    return ((b[at + 1]! << 24) | (b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!) >>> 0;
  }
  return decodeValue(b.subarray(at, end));
}

const EMPTY = new Uint8Array(0);

/**
 * The offset just past the msgpack value at `at` of `b`, its nested values included; throws a
 * SnapshotCorruptError when it runs past the end or uses the byte msgpack never uses (0xc1).
 */
export function skipValue(b: Uint8Array, at: number): number {
  const end = b.length;
  let left = 1;
  while (left > 0) {
    left--;
    if (at >= end) break;
    const t = b[at++]!;
    if (t < 0x80 || t >= 0xe0) continue;
    if (t < 0x90) left += 2 * (t & 0x0f);
    else if (t < 0xa0) left += t & 0x0f;
    else if (t < 0xc0) at += t & 0x1f;
    else if (t === 0xc1) {
      throw new SnapshotCorruptError(
        `Cannot decode a snapshot: byte ${at - 1} of its body is 0xc1, which msgpack never uses`,
      );
    } else {
      // A length or count of 1, 2 or 4 bytes, big-endian, then what it says.
      const w = WIDTH[t - 0xc0]!;
      if (w === 0) {
        at += FIXED[t - 0xc0]!;
        continue;
      }
      if (at + w > end) break;
      let n = 0;
      for (let k = 0; k < w; k++) n = n * 256 + b[at + k]!;
      at += w;
      const what = WHAT[t - 0xc0]!;
      if (what === BYTES) at += n;
      else if (what === EXT) at += n + 1;
      else if (what === ITEMS) left += n;
      else left += 2 * n;
    }
  }
  if (left > 0 || at > end) {
    throw new SnapshotCorruptError(
      `Cannot decode a snapshot: a value of its body runs past its end (byte ${end})`,
    );
  }
  return at;
}

const BYTES = 1, EXT = 2, ITEMS = 3, ENTRIES = 4;
/** The types with a length or count after the type byte: its width, and what it counts. */
const COUNTED: ReadonlyArray<readonly [number, number, number]> = [
  [0xc4, 1, BYTES], // bin 8, 16, 32
  [0xc5, 2, BYTES],
  [0xc6, 4, BYTES],
  [0xc7, 1, EXT], // ext 8, 16, 32: a type byte, then the bytes
  [0xc8, 2, EXT],
  [0xc9, 4, EXT],
  [0xd9, 1, BYTES], // str 8, 16, 32
  [0xda, 2, BYTES],
  [0xdb, 4, BYTES],
  [0xdc, 2, ITEMS], // array 16, 32
  [0xdd, 4, ITEMS],
  [0xde, 2, ENTRIES], // map 16, 32
  [0xdf, 4, ENTRIES],
];
/** Bytes after the type byte of 0xca to 0xd8: numbers, then fixext 1 to 16 (with its type). */
const FIXED_BYTES = [4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 2, 3, 5, 9, 17];
/** From 0xc0: the width of a length or count after the type byte (0: a fixed-width type). */
const WIDTH = new Uint8Array(32);
/** From 0xc0: what a length or count counts. */
const WHAT = new Uint8Array(32);
/** From 0xc0: the bytes after the type byte of a fixed-width type (0xca to 0xd8). */
const FIXED = new Uint8Array(32);
for (const [t, w, what] of COUNTED) [WIDTH[t - 0xc0], WHAT[t - 0xc0]] = [w, what];
FIXED_BYTES.forEach((n, i) => (FIXED[0x0a + i] = n));
