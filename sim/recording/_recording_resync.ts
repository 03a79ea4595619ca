/**
 * What a damaged recording still holds after the point where reading stopped: its records are
 * length-prefixed and CRC-checked, so the intact ones after damage can be found again (each offset
 * tried; a CRC-32 match on damaged bytes is a 1 in 2^32 chance) and counted, so that a verification
 * can say how many records and outputs it did not read, instead of passing what it never saw.
 */
import { crc32 } from "../../actors/runtime/mod.ts";
import { decodeValue, findingOutputSubject, SUBJECT_ROOT } from "../../protocol/mod.ts";

/** The intact records after a recording's cut. */
export interface UnreadRecords {
  /** Intact records after the cut (none: the cut is a torn tail). */
  records: number;
  /** How many of them are actor outputs (`troupe.out.*`, and findings on `troupe.finding.*`). */
  outputs: number;
  /** The file offset of the first of them, when there is one. */
  firstOffset: number | undefined;
}

const OUT_PREFIX = `${SUBJECT_ROOT}.out.`;

/**
 * Counts the intact records in `rest`, the bytes of a recording from its cut (`from`, the cut's
 * file offset) to its end, skipping the cut's own bytes and any further damage.
 */
export function countUnread(rest: Uint8Array, from: number, bodyBytesMax: number): UnreadRecords {
  let records = 0, outputs = 0;
  let firstOffset: number | undefined;
  let p = nextIntact(rest, 1, bodyBytesMax);
  while (p >= 0) {
    firstOffset ??= from + p;
    const length = le32(rest, p);
    records++;
    if (isOutput(rest.subarray(p + 8, p + 8 + length))) outputs++;
    const next = p + 8 + length;
    p = intactAt(rest, next, bodyBytesMax) ? next : nextIntact(rest, next + 1, bodyBytesMax);
  }
  return { records, outputs, firstOffset };
}

function nextIntact(buf: Uint8Array, from: number, bodyBytesMax: number): number {
  for (let p = from; p + 9 <= buf.byteLength; p++) if (intactAt(buf, p, bodyBytesMax)) return p;
  return -1;
}

/** Whether an intact record starts at `p`: a length that fits, an msgpack array, its CRC. */
function intactAt(buf: Uint8Array, p: number, bodyBytesMax: number): boolean {
  if (p + 9 > buf.byteLength) return false;
  const length = le32(buf, p);
  if (length === 0 || length > bodyBytesMax || p + 8 + length > buf.byteLength) return false;
  const head = buf[p + 8]!;
  if (head !== 0x93 && head !== 0x94) return false; // [subject, t_us, data, headers?]
  return crc32(buf, p + 8, p + 8 + length) === le32(buf, p + 4);
}

function isOutput(body: Uint8Array): boolean {
  try {
    const value = decodeValue(body);
    const subject = Array.isArray(value) ? value[0] : undefined;
    return typeof subject === "string" &&
      (subject.startsWith(OUT_PREFIX) || findingOutputSubject(subject) !== undefined);
  } catch {
    return false;
  }
}

function le32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}
