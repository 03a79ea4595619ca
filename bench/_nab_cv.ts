/**
 * Cross-validation inside a NAB corpus, so that a setting is chosen on one part of it and checked
 * on another: the 2-fold split (per category, files in sorted order go alternately to half A and
 * half B, so each half has every category), leave-one-category-out (each category scored at the
 * threshold chosen on the others: `--cv categories`, the protocol settings are chosen by),
 * per-category scores, and the grid of settings of `troupe bench nab --sweep`.
 */
import { BenchOptionError } from "./_bench_option_error.ts";
import {
  type NabFileInput,
  type NabProfile,
  type NabProfileReport,
  optimizeThreshold,
  scoreFile,
  sweepFile,
} from "./_nab_scorer.ts";

/** The two halves of a corpus's files (`<category>/<file>.csv` paths), stratified by category. */
export function cvHalves(paths: readonly string[]): { a: string[]; b: string[] } {
  const byCategory = new Map<string, string[]>();
  for (const p of [...paths].sort()) {
    const category = p.slice(0, p.indexOf("/"));
    const list = byCategory.get(category) ?? [];
    list.push(p);
    byCategory.set(category, list);
  }
  const a: string[] = [], b: string[] = [];
  for (const list of byCategory.values()) list.forEach((p, i) => (i % 2 === 0 ? a : b).push(p));
  return { a, b };
}

/** One category's share of a scored corpus, at the corpus's threshold. */
export interface NabCategoryScore {
  category: string;
  files: number;
  windows: number;
  /** Sum of the category's per-file scores. */
  raw: number;
  /** Normalised as the corpus is, over the category's windows; null when it has none. */
  normalized: number | null;
}

/** Per-category scores of `report` (the files of `inputs`, in the same order). */
export function categoryScores(
  report: NabProfileReport,
  inputs: readonly NabFileInput[],
  fnWeight: number,
  tpWeight: number,
): NabCategoryScore[] {
  const out = new Map<string, NabCategoryScore>();
  report.files.forEach((f, k) => {
    const category = f.name.slice(0, f.name.indexOf("/"));
    const c = out.get(category) ??
      { category, files: 0, windows: 0, raw: 0, normalized: null };
    c.files++;
    c.windows += inputs[k]!.windows.length;
    c.raw += f.score;
    out.set(category, c);
  });
  for (const c of out.values()) {
    const nullScore = -c.windows * fnWeight, perfect = c.windows * tpWeight;
    c.normalized = c.windows === 0 ? null : (100 * (c.raw - nullScore)) / (perfect - nullScore);
  }
  return [...out.values()];
}

/**
 * Parses `--sweep "field=v1,v2;field=v1,..."` into every combination of the values, as
 * configuration overrides (the fields are checked by the actor's parseConfig afterwards).
 */
export function parseSweep(text: string): Record<string, number>[] {
  let combos: Record<string, number>[] = [{}];
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    const field = part.slice(0, eq).trim();
    const values = part.slice(eq + 1).split(",").map((x) => Number(x.trim()));
    if (eq <= 0 || values.some((x) => !Number.isFinite(x))) {
      throw new BenchOptionError(
        `Option --sweep must be "field=v1,v2;field=..." with numbers, got "${part}"`,
      );
    }
    combos = combos.flatMap((c) => values.map((x) => ({ ...c, [field]: x })));
  }
  return combos;
}

/** One fold of leave-one-category-out: the held-out category scored at the others' threshold. */
export interface NabLocoFold {
  category: string;
  files: number;
  windows: number;
  /** The threshold optimised over every other category's files (never over this one's). */
  threshold: number;
  /** Sum of the held-out files' scores at that threshold. */
  raw: number;
  /** Normalised over the held-out category's windows. */
  normalized: number;
}

/** Leave-one-category-out over a corpus: every fold, and their mean. */
export interface NabLoco {
  folds: NabLocoFold[];
  /** Mean of the folds' normalised scores (NaN when no category has windows). */
  mean: number;
}

function categoryOf(path: string): string {
  return path.slice(0, path.indexOf("/"));
}

/**
 * Leave-one-category-out: each category with labelled windows is held out in turn, the threshold
 * is the one that serves every other category best (a category without windows, such as NAB's
 * artificialNoAnomaly, only ever takes part in that choice: it is never held out), and the held-out
 * category is scored at it, normalised over its own windows. A detector whose scores mean the same
 * on every kind of channel loses little here against its score on the whole corpus.
 */
export function locoFolds(inputs: readonly NabFileInput[], profile: NabProfile): NabLoco {
  const sweeps = inputs.map((f) => sweepFile(f, profile));
  const categories = [...new Set(inputs.map((f) => categoryOf(f.name)))].sort();
  const folds: NabLocoFold[] = [];
  for (const category of categories) {
    const held = sweeps.filter((s) => categoryOf(s.name) === category);
    const windows = held.reduce((sum, s) => sum + s.windowCount, 0);
    const others = sweeps.filter((s) => categoryOf(s.name) !== category);
    if (windows === 0 || others.length === 0) continue;
    const { threshold } = optimizeThreshold(others);
    let raw = 0, nullScore = 0;
    for (const s of held) {
      raw += scoreFile(s, threshold).score;
      nullScore -= s.scoredWindows * profile.fnWeight;
    }
    const span = windows * profile.tpWeight - nullScore;
    const normalized = span === 0 ? 0 : (100 * (raw - nullScore)) / span;
    folds.push({ category, files: held.length, windows, threshold, raw, normalized });
  }
  const mean = folds.reduce((sum, f) => sum + f.normalized, 0) / folds.length;
  return { folds, mean };
}

/** Each category at its own best threshold, against the corpus scored at one threshold. */
export interface NabCategoryGap {
  /** Every category with windows, swept on itself alone (its own best threshold). */
  own: { category: string; windows: number; threshold: number; normalized: number }[];
  /** The window-weighted mean of `own`'s scores. */
  ownMean: number;
  /** The corpus scored together at its one best threshold. */
  together: number;
  /** together - ownMean: near 0 when one threshold serves every category as its own would. */
  gap: number;
}

/**
 * How much one threshold for the whole corpus costs against a threshold per category: each
 * category with windows is swept on its own files, their scores are averaged weighted by windows,
 * and the corpus is scored together. Scores on one scale lose little (NAB's published detectors
 * lose 0.2 to 0.6 points on the categories kept from development); scores whose meaning differs
 * by kind of channel lose more, because the one threshold serves no category well.
 */
export function categoryGap(inputs: readonly NabFileInput[], profile: NabProfile): NabCategoryGap {
  const sweeps = inputs.map((f) => sweepFile(f, profile));
  const normalise = (group: typeof sweeps, threshold: number) => {
    let raw = 0, nullScore = 0, windows = 0;
    for (const s of group) {
      raw += scoreFile(s, threshold).score;
      nullScore -= s.scoredWindows * profile.fnWeight;
      windows += s.windowCount;
    }
    const span = windows * profile.tpWeight - nullScore;
    return { windows, normalized: span === 0 ? 0 : (100 * (raw - nullScore)) / span };
  };
  const own: NabCategoryGap["own"] = [];
  for (const category of [...new Set(inputs.map((f) => categoryOf(f.name)))].sort()) {
    const group = sweeps.filter((s) => categoryOf(s.name) === category);
    if (group.reduce((sum, s) => sum + s.windowCount, 0) === 0) continue;
    const { threshold } = optimizeThreshold(group);
    own.push({ category, threshold, ...normalise(group, threshold) });
  }
  const windows = own.reduce((sum, c) => sum + c.windows, 0);
  const ownMean = own.reduce((sum, c) => sum + c.normalized * c.windows, 0) / windows;
  const together = normalise(sweeps, optimizeThreshold(sweeps).threshold).normalized;
  return { own, ownMean, together, gap: together - ownMean };
}
