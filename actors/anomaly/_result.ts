/**
 * What the anomaly kernel's step gives for one frame: per-sample columns (score, expected value,
 * the band's half-width) and the incident changes in sample order, and where its columns are
 * made. Private to the anomaly folder; kernel.ts re-exports the types.
 */
import type { ViewCode } from "./_views.ts";

/**
 * A change of the channel's incident state at one sample: an incident opens at a valid sample
 * scoring at or above the threshold while none is open, and closes at the
 * `refractory_samples`-th valid sample in a row scoring below it. Decided per sample, so framing
 * never changes one.
 */
export interface AnomalyChange {
  /** Index of the sample in the frame. */
  index: number;
  /**
   * True when an incident opens at this sample, or when the open one's finding is restated here
   * (`restated`); false when the open one closes.
   */
  open: boolean;
  /**
   * Whether this sample restates the open incident's finding, stronger against the reference it
   * opened against (_restate.ts): no incident opens or closes.
   */
  restated: boolean;
  /** The view that scored an opening's sample (_views.ts); VIEW.none at a closing. */
  view: ViewCode;
  /**
   * An opening's band half-width as its finding states it: `band_sigmas` σ, σ made honest for
   * paging (_scale.ts), wider than the column's `spread` where the channel's long run or its
   * resolution says so; NaN at a closing.
   */
  spread: number;
  /** A restatement's expected value (the held one); NaN otherwise (the sample's own). */
  expected: number;
}

/** No changes: shared by every frame without one (never written to). */
export const NO_CHANGES: readonly AnomalyChange[] = Object.freeze([]);

/** What one frame produces: per-sample columns and the incident changes, in order. */
export interface AnomalyResult {
  /** Per sample: the anomaly score in [0, 1]. */
  score: Float64Array;
  /** Per sample: the value expected from the past. */
  expected: Float64Array;
  /**
   * Per sample: the prediction band's half-width. The band is `expected - spread` to
   * `expected + spread`, bit for bit the edges the kernel computes for a valid sample.
   */
  spread: Float64Array;
  /** Every opening and closing of an incident in this frame, in sample order. */
  changes: readonly AnomalyChange[];
  /** Valid samples in this frame. */
  valid: number;
  /** Samples of this frame skipped as invalid. */
  skipped: number;
  /** Valid samples the instance has seen, this frame included. */
  seen: number;
}

/**
 * `changes` (NO_CHANGES or an array this made) with the change at sample `index` added (a
 * restatement when `finding` has its held `expected`): a new array at the first (made with it:
 * `[]` then a push deopted the step on a "wrong map").
 */
export function addChange(
  changes: readonly AnomalyChange[],
  index: number,
  open: boolean,
  view: ViewCode,
  finding?: { spread: number; expected?: number },
): readonly AnomalyChange[] {
  const expected = finding?.expected;
  const c: AnomalyChange = {
    index,
    open,
    restated: expected !== undefined,
    view,
    spread: finding?.spread ?? NaN,
    expected: expected ?? NaN,
  };
  if (changes === NO_CHANGES) return [c];
  (changes as AnomalyChange[]).push(c);
  return changes;
}

/** Frames of at most this many samples get three arrays of 64 bytes at most, not one buffer. */
const SMALL_FRAME = 8;

/**
 * The score, expected and spread columns of a frame of `n` samples, for the step to fill: views
 * of one buffer, `reuse`'s when it is one of at least `24 * n` bytes (a result the caller is done
 * with: Kernel.step), else a new one; a small frame's are three arrays (`reuse`'s when as long),
 * which V8 keeps on its heap (an ArrayBuffer's memory is allocated outside it, and freed only by
 * a collection).
 */
export function resultColumns(
  n: number,
  reuse: AnomalyResult | undefined,
): [Float64Array, Float64Array, Float64Array] {
  if (n <= SMALL_FRAME) {
    if (reuse?.score.length === n) return [reuse.score, reuse.expected, reuse.spread];
    return [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  }
  // A small frame's columns are not asked for their buffer: on V8's heap, that would make one.
  const spent = reuse !== undefined && reuse.score.length > SMALL_FRAME ? reuse.score : undefined;
  const buffer = spent !== undefined && spent.byteOffset === 0 &&
      spent.buffer instanceof ArrayBuffer && spent.buffer.byteLength >= 24 * n
    ? spent.buffer
    : new ArrayBuffer(24 * n);
  return [
    new Float64Array(buffer, 0, n),
    new Float64Array(buffer, 8 * n, n),
    new Float64Array(buffer, 16 * n, n),
  ];
}
