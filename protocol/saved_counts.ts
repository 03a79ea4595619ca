/**
 * Counts held as float64 (a kernel's tallies: how often a context, a run, a jump was met), saved
 * in a byte or two each rather than eight: each value `v` that is a whole number from 0 to
 * 2^53 − 2 as the unsigned LEB128 of `v + 1`, any other (a fraction, a negative, −0, NaN of any
 * payload, an infinity) as a zero byte and its eight bytes little-endian. A state's tallies are
 * mostly zeros in a channel's first hours and small numbers after; the bytes give back the same
 * values to the bit, whatever they were.
 */

/** The byte that says an exact float64's eight bytes follow (no LEB128 of `v + 1` starts so). */
const EXACT = 0;

/** The largest count saved as a number: `v + 1` stays a safe integer. */
const COUNT_MAX = Number.MAX_SAFE_INTEGER - 1;

const scratch = new DataView(new ArrayBuffer(8));

/** Whether `v` is saved as a number (else as its eight bytes). */
function isCount(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= COUNT_MAX && !Object.is(v, -0);
}

/**
 * Writes `a`'s values into `out` at byte `at` (at most 9 bytes a value; `out` has the room);
 * returns the byte after them.
 */
export function writeSavedCounts(out: Uint8Array, at: number, a: Float64Array): number {
  let p = at;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    // Most tallies: a byte (0 is +0 here: 1 / -0 is -Infinity).
    if (v >= 0 && v < 127 && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
      out[p++] = v + 1;
      continue;
    }
    if (!isCount(v)) {
      out[p++] = EXACT;
      scratch.setFloat64(0, v, true);
      for (let b = 0; b < 8; b++) out[p++] = scratch.getUint8(b);
      continue;
    }
    let u = v + 1;
    while (u >= 128) {
      out[p++] = (u % 128) | 128;
      u = Math.floor(u / 128);
    }
    out[p++] = u;
  }
  return p;
}

/**
 * Reads `into.length` values saved by `writeSavedCounts` from `bytes` at byte `at`, up to byte
 * `end`; returns the byte after them. Throws RangeError naming the value and the byte where they
 * run past `end` or a number is longer than a count's.
 */
export function readSavedCounts(
  bytes: Uint8Array,
  at: number,
  end: number,
  into: Float64Array,
): number {
  let p = at;
  for (let i = 0; i < into.length; i++) {
    if (p >= end) throw new RangeError(`count ${i} of ${into.length} runs past the bytes saved`);
    const first = bytes[p]!;
    if (first > EXACT && first < 128) {
      into[i] = first - 1; // most tallies: a byte
      p++;
      continue;
    }
    if (first === EXACT) {
      if (p + 9 > end) {
        throw new RangeError(`count ${i} of ${into.length} runs past the bytes saved`);
      }
      for (let b = 0; b < 8; b++) scratch.setUint8(b, bytes[p + 1 + b]!);
      into[i] = scratch.getFloat64(0, true);
      p += 9;
      continue;
    }
    let u = 0, scale = 1, byte: number;
    do {
      if (p >= end) throw new RangeError(`count ${i} of ${into.length} runs past the bytes saved`);
      byte = bytes[p++]!;
      u += (byte & 127) * scale;
      scale *= 128;
    } while (byte >= 128 && scale < 2 ** 56);
    if (byte >= 128 || u - 1 > COUNT_MAX) {
      throw new RangeError(`count ${i} of ${into.length} at byte ${at} + ${p - at} is too long`);
    }
    into[i] = u - 1;
  }
  return p;
}
