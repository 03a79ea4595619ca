/**
 * The change-point metrics of the Turing Change Point Dataset benchmark (van den Burg & Williams,
 * "An Evaluation of Change Point Detection Algorithms", 2020), computed the way its reference code
 * does, so troupe's figures can be set beside the published ones:
 * - index 0 is a change point of every annotator and of every prediction;
 * - F1 with a margin (5): precision is the fraction of predictions that match a point of the union
 *   of the annotators, recall the mean over annotators of the fraction of their points matched;
 *   a true point is matched to the closest unused prediction within the margin (ties to the
 *   earlier), so each prediction matches at most one true point of a set;
 * - covering: for each annotator, the length-weighted best Jaccard overlap of each of its segments
 *   with a predicted segment, averaged over annotators.
 * Points are sample indices; duplicates are ignored, and for covering, points outside [1, n - 1]
 * (they cut nothing).
 */

/** Annotations of one series: each annotator's change indices. */
export type Annotations = Readonly<Record<string, readonly number[]>>;

/** F1 and its parts. */
export interface F1Result {
  f1: number;
  precision: number;
  recall: number;
}

/** The margin of the TCPD benchmark, in samples. */
export const MARGIN_DEFAULT = 5;

function withZero(points: readonly number[]): number[] {
  return [...new Set([0, ...points])].sort((a, b) => a - b);
}

/**
 * The true points of `truth` matched by `predictions` within `margin`: each true point, in
 * ascending order, takes the closest prediction not yet taken (the smaller one on a tie).
 */
export function truePositives(
  truth: readonly number[],
  predictions: readonly number[],
  margin: number = MARGIN_DEFAULT,
): number[] {
  const free = [...new Set(predictions)].sort((a, b) => a - b);
  const matched: number[] = [];
  for (const tau of [...new Set(truth)].sort((a, b) => a - b)) {
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      const d = Math.abs(free[i]! - tau);
      if (d <= margin && (best < 0 || d < Math.abs(free[best]! - tau))) best = i;
    }
    if (best >= 0) {
      matched.push(tau);
      free.splice(best, 1);
    }
  }
  return matched;
}

/** F1 (harmonic mean of precision and recall) of `predictions` against every annotator. */
export function f1Score(
  annotations: Annotations,
  predictions: readonly number[],
  margin: number = MARGIN_DEFAULT,
): F1Result {
  const annotators = Object.values(annotations).map(withZero);
  if (annotators.length === 0) {
    throw new RangeError("f1Score(): annotations must hold at least one annotator, got none");
  }
  const x = withZero(predictions);
  const union = withZero(annotators.flat());
  const precision = truePositives(union, x, margin).length / x.length;
  let recallSum = 0;
  for (const tk of annotators) recallSum += truePositives(tk, x, margin).length / tk.length;
  const recall = recallSum / annotators.length;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { f1, precision, recall };
}

/** The segments [start, end) that the change points cut [0, n) into. */
export function segmentsOf(points: readonly number[], n: number): Array<[number, number]> {
  const cuts = withZero(points).filter((p) => p > 0 && p < n);
  const segments: Array<[number, number]> = [];
  let start = 0;
  for (const c of cuts) {
    segments.push([start, c]);
    start = c;
  }
  segments.push([start, n]);
  return segments;
}

/** Covering of one annotator's partition by the predicted one. */
function coverSingle(
  truth: Array<[number, number]>,
  predicted: Array<[number, number]>,
  n: number,
): number {
  let sum = 0;
  let j0 = 0;
  for (const [a, b] of truth) {
    // Predicted segments are sorted: skip those ending before this one starts.
    while (j0 < predicted.length && predicted[j0]![1] <= a) j0++;
    let best = 0;
    for (let j = j0; j < predicted.length && predicted[j]![0] < b; j++) {
      const [c, d] = predicted[j]!;
      const inter = Math.min(b, d) - Math.max(a, c);
      const jaccard = inter / ((b - a) + (d - c) - inter);
      if (jaccard > best) best = jaccard;
    }
    sum += (b - a) * best;
  }
  return sum / n;
}

/** Covering of `predictions` over a series of `n` samples, averaged over annotators. */
export function covering(
  annotations: Annotations,
  predictions: readonly number[],
  n: number,
): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`covering(): n must be a positive integer, got ${n}`);
  }
  const annotators = Object.values(annotations);
  if (annotators.length === 0) {
    throw new RangeError("covering(): annotations must hold at least one annotator, got none");
  }
  const predicted = segmentsOf(predictions, n);
  let sum = 0;
  for (const points of annotators) sum += coverSingle(segmentsOf(points, n), predicted, n);
  return sum / annotators.length;
}
