/**
 * Anomaly states in save formats 16 (before the shift view's note of an incident met by its
 * excursion under way and its sum at which that excursion passed the ARL alarm unjudged, format
 * 17), 15 (also before its record of the excursions next to a change of the kind of day, format
 * 16) and 14 (also before its recent residuals' mean, format 15), made from a state of this kernel:
 * for the tests that older formats still load.
 */
import { anomalyKernel, type AnomalyState } from "../../../actors/anomaly/mod.ts";

/** The shift view's slot of its recent residuals' mean (format 15; 0 when read from an older one). */
export const SHIFT_RECENT = 16;
/** Floats of the calibration's record and of the bounds' record, after the key set since format 14. */
const TAIL_FLOATS = 67 + 34;

/** The shift view's record of the excursions next to a change of the kind of day (format 16). */
const [EDGE_AT, EDGE_FLOATS] = [33, 18];
/** The shift view's note of an incident met by its excursion under way (format 17). */
export const SHIFT_REPORTED = EDGE_AT + EDGE_FLOATS;

/** The shift view's sum at which the excursion under way passed the ARL alarm unjudged (format 17). */
export const SHIFT_UNJUDGED = SHIFT_REPORTED + 1;

/**
 * `saved`, whose shift view holds `shiftLength` floats, with `count` of them from slot `slot` on
 * dropped, marked as save format `version`.
 */
function dropShift(
  saved: Uint8Array,
  shiftLength: number,
  { slot, count, version }: { slot: number; count: number; version: number },
): Uint8Array {
  const keys = new DataView(saved.buffer).getUint32(16, true);
  const shiftAt = saved.length - 8 * (TAIL_FLOATS + shiftLength) - 4 * keys;
  const slotAt = shiftAt + 8 * slot;
  const old = new Uint8Array(saved.length - 8 * count);
  old.set(saved.subarray(0, slotAt));
  old.set(saved.subarray(slotAt + 8 * count), slotAt);
  new DataView(old.buffer).setUint32(4, version, true);
  return old;
}

/** The bytes of `st` in save format 16: its shift view without the incident's note and the sum. */
export function saveFormat16(st: AnomalyState): Uint8Array {
  const options = { slot: SHIFT_REPORTED, count: 2, version: 16 };
  return dropShift(anomalyKernel.save(st), st.shift.length, options);
}

/** The bytes of `st` in save format 15: its shift view also without the edges' record. */
export function saveFormat15(st: AnomalyState): Uint8Array {
  const options = { slot: EDGE_AT, count: EDGE_FLOATS, version: 15 };
  return dropShift(saveFormat16(st), st.shift.length - 2, options);
}

/** The bytes of `st` in save format 14: its shift view also without the recent residual. */
export function saveFormat14(st: AnomalyState): Uint8Array {
  const options = { slot: SHIFT_RECENT, count: 1, version: 14 };
  return dropShift(saveFormat15(st), st.shift.length - 2 - EDGE_FLOATS, options);
}

/** `shift` as format 16 loads it: no incident noted, no unjudged excursion's sum. */
export function shiftAsLoaded16(shift: Float64Array): number[] {
  const out = Array.from(shift);
  out[SHIFT_REPORTED] = 0;
  out[SHIFT_UNJUDGED] = 0;
  return out;
}

/** `shift` as format 15 loads it: also the edges' record empty. */
export function shiftAsLoaded15(shift: Float64Array): number[] {
  const out = shiftAsLoaded16(shift);
  out.fill(0, EDGE_AT, EDGE_AT + EDGE_FLOATS);
  return out;
}

/** `shift` as a format before 15 loads it: also no recent residual on record. */
export function shiftAsLoaded(shift: Float64Array): number[] {
  const out = shiftAsLoaded15(shift);
  out[SHIFT_RECENT] = 0;
  return out;
}
