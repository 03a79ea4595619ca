/**
 * An anomaly state in save format 14, the one before the shift view's recent residuals' mean
 * (format 15), made from a state of this kernel: for the tests that older formats still load.
 */
import { anomalyKernel, type AnomalyState } from "../../../actors/anomaly/mod.ts";

/** The shift view's slot of its recent residuals' mean (format 15; 0 when read from an older one). */
export const SHIFT_RECENT = 16;
/** Floats of the calibration's record and of the bounds' record, after the key set since format 14. */
const TAIL_FLOATS = 67 + 34;

/** The bytes of `st` in save format 14: its shift view without the recent residual. */
export function saveFormat14(st: AnomalyState): Uint8Array {
  const saved = anomalyKernel.save(st);
  const keys = new DataView(saved.buffer).getUint32(16, true);
  const shiftAt = saved.length - 8 * (TAIL_FLOATS + st.shift.length) - 4 * keys;
  const slotAt = shiftAt + 8 * SHIFT_RECENT;
  const old = new Uint8Array(saved.length - 8);
  old.set(saved.subarray(0, slotAt));
  old.set(saved.subarray(slotAt + 8), slotAt);
  new DataView(old.buffer).setUint32(4, 14, true);
  return old;
}

/** `shift` as a format before 15 loads it: no recent residual on record. */
export function shiftAsLoaded(shift: Float64Array): number[] {
  const out = Array.from(shift);
  out[SHIFT_RECENT] = 0;
  return out;
}
