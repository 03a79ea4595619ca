/**
 * troupe's own scorer for the Numenta Anomaly Benchmark (NAB, numenta/NAB v1.1 "sweeper" rules),
 * written from the published rules so that `troupe bench nab` needs no Python:
 *
 * - a file's first `min(floor(0.15 n), 750)` rows are probationary and never scored;
 * - a window `[start, end]` is located by row: it opens at the first row whose timestamp equals
 *   `start` and closes at the first row whose timestamp equals `end` (repeated timestamps resolve
 *   to their first row); its width is `endRow - startRow + 1`;
 * - a row inside a window weighs `tpWeight * σ(-(endRow - i + 1) / width) / σ(-1)`, where
 *   `σ(x) = 2 / (1 + e^{5x}) - 1` (the scaled sigmoid, -1 past 3), so the window's first row is
 *   worth exactly `tpWeight`; a window scores the weight of its best (earliest) detection, or
 *   `-fnWeight` when nothing in it is detected;
 * - a detection outside every window costs `fpWeight * σ(|i - prevEndRow| / (prevWidth - 1))`
 *   (negative, growing towards the full weight with distance past the preceding window), and the
 *   full `-fpWeight` when no window precedes it;
 * - a row is a detection when its anomaly score is `>= threshold`;
 * - the corpus threshold is the one that maximises the summed score over all files (ties go to the
 *   highest threshold), and a corpus score normalises as `100 (S - S_null) / (S_perfect - S_null)`,
 *   where the null detector detects nothing and the perfect one detects every window at its start
 *   (`tpWeight` per window).
 *
 * Departures from the reference, where it would crash: a window of width 1 followed by rows divides
 * by zero there; here its distance scale is 1 row. A window whose start or end falls between rows
 * (the reference fails on it) holds the rows whose timestamps lie within it; a window that holds
 * no row is an error naming the file and the window, not a silently dropped window.
 */
import { BenchDataError } from "./_bench_data_error.ts";

/** One scoring profile: NAB's `CostMatrix`. */
export interface NabProfile {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** One labelled file to score: timestamps (any comparable number, e.g. ms), scores, windows. */
export interface NabFileInput {
  /** The file's corpus path, `<category>/<file>.csv`: names its windows in messages. */
  name: string;
  /** Row timestamps, non-decreasing; repeated values allowed. */
  t: ArrayLike<number>;
  /** Per-row anomaly scores, finite. */
  scores: ArrayLike<number>;
  /** Labelled windows as `[start, end]` timestamps, in time order. */
  windows: readonly (readonly [number, number])[];
}

/** Row tag: probationary, never scored. */
export const ROW_PROBATION = -2;
/** Row tag: outside every window. */
export const ROW_OUTSIDE = -1;

/** A file's rows prepared for scoring under one profile. */
export interface NabSweep {
  name: string;
  scores: ArrayLike<number>;
  /** Per row: `ROW_PROBATION`, `ROW_OUTSIDE`, or the index of the window holding it. */
  windowOf: Int32Array;
  /** Per row: what a detection there is worth (NAB's `S(t)`), probationary rows included. */
  weight: Float64Array;
  /** Windows with at least one scorable row: each costs `-fnWeight` when missed. */
  scoredWindows: number;
  /** Number of windows labelled in the file. */
  windowCount: number;
  fnWeight: number;
}

/** A file's score and confusion counts (counts over scorable rows) at one threshold. */
export interface NabFileScore {
  name: string;
  threshold: number;
  score: number;
  tp: number;
  tn: number;
  fp: number;
  fn: number;
  /** All rows of the file, probationary ones included. */
  total: number;
}

/** The probationary length of a file of `rows` rows: `min(floor(0.15 rows), 750)`. */
export function probationLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/** NAB's scaled sigmoid of a relative position: 2σ(-5x) - 1, and -1 past 3. */
export function scaledSigmoid(x: number): number {
  if (x > 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

/** A timestamp of a message: UTC date and time where it reads as epoch milliseconds. */
function stampOf(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return String(x);
  const d = new Date(x);
  return Number.isNaN(d.getTime()) ? String(x) : d.toISOString().replace("T", " ").replace("Z", "");
}

/** The first index at or after `from` whose time is at least `value`; `t.length` when none. */
function firstAtOrAfter(t: ArrayLike<number>, value: number, from: number): number {
  let i = from;
  while (i < t.length && t[i]! < value) i++;
  return i;
}

/** Tags every row of a file with its window and the weight a detection there carries. */
export function sweepFile(file: NabFileInput, profile: NabProfile): NabSweep {
  const { t, scores, windows, name } = file;
  const n = t.length;
  if (scores.length !== n) {
    throw new RangeError(`NAB file "${name}" has ${n} timestamps but ${scores.length} scores`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i]!)) {
      throw new RangeError(
        `NAB file "${name}": anomaly score of row ${i} must be finite, got ${scores[i]}`,
      );
    }
  }
  // Locate every window by row first. A window holds the rows whose time lies within it, so a
  // window drawn on NAB's own rows is located at those rows exactly (the reference's
  // `timestamps.index`), and one whose ends fall between rows (labels drawn on another clock)
  // holds the rows between its ends.
  const starts = new Int32Array(windows.length);
  const ends = new Int32Array(windows.length);
  let from = 0;
  for (let w = 0; w < windows.length; w++) {
    const [a, b] = windows[w]!;
    const s = firstAtOrAfter(t, a, from);
    const e = firstAtOrAfter(t, b, s);
    const last = e < n && t[e] === b ? e : e - 1;
    if (s >= n || last < s) {
      throw new BenchDataError(
        `NAB file "${name}": window ${w} [${stampOf(a)}, ${stampOf(b)}] holds no row of the ` +
          `file (${n} rows, ${stampOf(t[0])} to ${stampOf(t[n - 1])})`,
      );
    }
    starts[w] = s;
    ends[w] = last;
    from = last + 1;
  }
  const probation = probationLength(n);
  const maxTp = scaledSigmoid(-1);
  const windowOf = new Int32Array(n);
  const weight = new Float64Array(n);
  const counted = new Uint8Array(windows.length);
  let next = 0;
  let cur = -1;
  let prevEnd = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    if (cur < 0 && next < windows.length && i === starts[next]) cur = next++;
    let tag: number;
    if (cur >= 0) {
      const width = ends[cur]! - starts[cur]! + 1;
      weight[i] = scaledSigmoid(-(ends[cur]! - i + 1) / width) * profile.tpWeight / maxTp;
      tag = cur;
    } else {
      const unweighted = prevEnd < 0
        ? -1
        : scaledSigmoid(Math.abs(prevEnd - i) / Math.max(prevWidth - 1, 1));
      weight[i] = unweighted * profile.fpWeight;
      tag = ROW_OUTSIDE;
    }
    if (i < probation) tag = ROW_PROBATION;
    else if (tag >= 0) counted[tag] = 1;
    windowOf[i] = tag;
    if (cur >= 0 && i === ends[cur]) {
      prevEnd = i;
      prevWidth = ends[cur]! - starts[cur]! + 1;
      cur = -1;
    }
  }
  let scoredWindows = 0;
  for (let w = 0; w < windows.length; w++) scoredWindows += counted[w]!;
  return {
    name,
    scores,
    windowOf,
    weight,
    scoredWindows,
    windowCount: windows.length,
    fnWeight: profile.fnWeight,
  };
}

/** A file's score at `threshold`: rows with score `>= threshold` are detections. */
export function scoreFile(sweep: NabSweep, threshold: number): NabFileScore {
  const { scores, windowOf, weight } = sweep;
  const best = new Float64Array(sweep.windowCount).fill(-sweep.fnWeight);
  let fpSum = 0;
  let tp = 0, tn = 0, fp = 0, fn = 0;
  for (let i = 0; i < windowOf.length; i++) {
    const w = windowOf[i]!;
    if (w === ROW_PROBATION) continue;
    const hit = scores[i]! >= threshold;
    if (w === ROW_OUTSIDE) {
      if (hit) {
        fp++;
        fpSum += weight[i]!;
      } else tn++;
    } else if (hit) {
      tp++;
      if (weight[i]! > best[w]!) best[w] = weight[i]!;
    } else fn++;
  }
  // Windows with no scorable row take no part, as in the reference.
  let score = fpSum;
  const seen = new Uint8Array(sweep.windowCount);
  for (let i = 0; i < windowOf.length; i++) {
    const w = windowOf[i]!;
    if (w >= 0 && !seen[w]) {
      seen[w] = 1;
      score += best[w]!;
    }
  }
  return { name: sweep.name, threshold, score, tp, tn, fp, fn, total: windowOf.length };
}

/** The corpus score at every distinct threshold, highest threshold first. */
export interface NabThresholdCurve {
  /** `thresholds[0]` is 1.1 (nothing detected); then every distinct score, descending. */
  thresholds: Float64Array;
  /** Summed score over all files when rows `>= thresholds[k]` are detections. */
  scores: Float64Array;
}

/** Sweeps the threshold over every distinct score of the corpus, as NAB's optimiser does. */
export function thresholdCurve(sweeps: readonly NabSweep[]): NabThresholdCurve {
  let rows = 0;
  let windows = 0;
  for (const s of sweeps) {
    for (let i = 0; i < s.windowOf.length; i++) if (s.windowOf[i] !== ROW_PROBATION) rows++;
    windows += s.windowCount;
  }
  const score = new Float64Array(rows);
  const weight = new Float64Array(rows);
  const windowId = new Int32Array(rows);
  const best = new Float64Array(windows);
  let k = 0;
  let base = 0;
  let total = 0;
  for (const s of sweeps) {
    const seen = new Uint8Array(s.windowCount);
    for (let i = 0; i < s.windowOf.length; i++) {
      const w = s.windowOf[i]!;
      if (w === ROW_PROBATION) continue;
      score[k] = s.scores[i]!;
      weight[k] = s.weight[i]!;
      windowId[k] = w >= 0 ? base + w : -1;
      if (w >= 0 && !seen[w]) {
        seen[w] = 1;
        best[base + w] = -s.fnWeight;
        total -= s.fnWeight;
      }
      k++;
    }
    base += s.windowCount;
  }
  const order = Array.from({ length: rows }, (_, i) => i);
  order.sort((a, b) => score[b]! - score[a]! || a - b);
  const thresholds: number[] = [];
  const curve: number[] = [];
  let current = 1.1;
  for (let j = 0; j < rows; j++) {
    const r = order[j]!;
    if (score[r] !== current) {
      thresholds.push(current);
      curve.push(total);
      current = score[r]!;
    }
    const w = windowId[r]!;
    if (w < 0) total += weight[r]!;
    else if (weight[r]! > best[w]!) {
      total += weight[r]! - best[w]!;
      best[w] = weight[r]!;
    }
  }
  thresholds.push(current);
  curve.push(total);
  return { thresholds: Float64Array.from(thresholds), scores: Float64Array.from(curve) };
}

/** The threshold with the best corpus score (the highest such threshold on ties). */
export function optimizeThreshold(
  sweeps: readonly NabSweep[],
): { threshold: number; score: number } {
  const { thresholds, scores } = thresholdCurve(sweeps);
  let best = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]!) best = k;
  return { threshold: thresholds[best]!, score: scores[best]! };
}

/** A corpus scored under one profile. */
export interface NabProfileReport {
  profile: string;
  threshold: number;
  /** Sum of the per-file scores at `threshold`. */
  raw: number;
  /** The null detector's raw score (detects nothing). */
  nullScore: number;
  /** The perfect detector's raw score (each window detected at its first row). */
  perfectScore: number;
  /** `100 (raw - null) / (perfect - null)`. */
  normalized: number;
  files: NabFileScore[];
}

/** Scores a corpus under each profile, with the threshold optimised over the corpus per profile. */
export function scoreCorpus(
  files: readonly NabFileInput[],
  profiles: Readonly<Record<string, NabProfile>>,
): NabProfileReport[] {
  const reports: NabProfileReport[] = [];
  for (const [name, profile] of Object.entries(profiles)) {
    const sweeps = files.map((f) => sweepFile(f, profile));
    const { threshold } = optimizeThreshold(sweeps);
    const scored = sweeps.map((s) => scoreFile(s, threshold));
    let raw = 0;
    let nullScore = 0;
    let windows = 0;
    for (const s of scored) raw += s.score;
    for (const s of sweeps) {
      nullScore -= s.scoredWindows * profile.fnWeight;
      windows += s.windowCount;
    }
    const perfectScore = windows * profile.tpWeight;
    const span = perfectScore - nullScore;
    const normalized = span === 0 ? 0 : (100 * (raw - nullScore)) / span;
    reports.push({
      profile: name,
      threshold,
      raw,
      nullScore,
      perfectScore,
      normalized,
      files: scored,
    });
  }
  return reports;
}
