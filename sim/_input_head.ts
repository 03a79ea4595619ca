/**
 * An input record's head read in place (see actors/runtime/input_record.ts for the layout: u8
 * kind, f64 source position, u16 subject length, subject, payload): what the simulator's checks
 * read of every journaled record, without decoding its subject or making views of it.
 */
import { decodeInputRecord, REGULAR_FRAME_CODE } from "../actors/runtime/input_record.ts";

/** The kind code of a frame record. */
export const FRAME_CODE = 1;
/** The bytes of a record's head before its subject. */
const FIXED_BYTES = 11;
/** The highest kind code: a host's edge decision, `dead` (kind 6, a frame without its evenly
 *  spaced times, the simulator's hosts do not write: see HostOptions.journalEvenTimes). */
const KIND_CODE_MAX = 8;

const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/**
 * The kind code of input record `data` (1 frame, 2 control, 3 tick, 4 init, 5 skip, 7 admit,
 * 8 dead; a frame without its time column counts as 1). Bytes that are not an input record throw, as
 * `decodeInputRecord` does.
 */
export function inputKindCode(data: Uint8Array): number {
  const n = data.byteLength;
  const code = n >= FIXED_BYTES ? data[0]! : 0;
  if (code < 1 || code > KIND_CODE_MAX || FIXED_BYTES + (data[9]! | (data[10]! << 8)) > n) {
    decodeInputRecord(data); // throws, naming what is wrong
    throw new Error(`Cannot read the head of an input record of ${n} bytes, kind code ${code}`);
  }
  return code === REGULAR_FRAME_CODE ? FRAME_CODE : code;
}

/** The length of the head of an input record on `subject`: what precedes its payload. */
export function inputHeadBytes(subject: string): number {
  return FIXED_BYTES + utf8.encode(subject).byteLength;
}

const utf8 = new TextEncoder();

/** The source position of input record `data` (a whole one: see `inputKindCode`). */
export function inputSourcePosition(data: Uint8Array): number {
  for (let i = 0; i < 8; i++) scratch[i] = data[1 + i]!;
  return scratchView.getFloat64(0, true);
}
