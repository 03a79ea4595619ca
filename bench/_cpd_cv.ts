/**
 * Two-fold cross-validation of the collapse configuration on a TCPD-format directory, so a default
 * is chosen on some series and checked on others: the scored series (sorted by name) are dealt
 * alternately into halves A and B; every configuration of a fixed grid is scored on each series;
 * the configuration best on A is scored on B and the one best on B on A. Both held-out figures are
 * the estimate of how a configuration chosen this way does on series it was not chosen on. A
 * configuration is a candidate only if it is admissible (the caller's check: the synthetic bars of
 * `troupe bench cpd --synthetic`), checked lazily from the best down. The grid and the halves are
 * fixed here, so `troupe bench cpd --data DIR --cv` is reproducible. With 6 series a half, one
 * series moves a half's figure by up to 0.17, so the report adds leave-one-out: each series scored
 * with the configuration best on all the others, averaged (12 held-out choices instead of 2).
 */
import { type CollapseConfig, parseCollapseConfig } from "../actors/collapse/mod.ts";
import { f1Score, MARGIN_DEFAULT } from "./_cpd_metrics.ts";
import { detectSeries } from "./_cpd_detector.ts";
import { readTcpdAnnotations, readTcpdDir } from "./_tcpd_data.ts";

/**
 * The values tried for each field; every combination is one configuration of the grid. Fields
 * left out hold the base configuration's values: `level_drift` above 0 and `prior_alpha` above
 * 0.6 were tried and fail the synthetic bars (a 2-sigma shift is absorbed as drift; a spread
 * change is missed), so they are not candidates for a default.
 */
export const CV_GRID: Readonly<Record<string, readonly number[]>> = {
  slope_prior: [0, 0.05, 0.1, 0.2, 0.3],
  outlier_prob: [0.05, 0.1, 0.2, 0.3],
  hazard: [1e-3, 3e-4],
};

/** One configuration's F1 on each half. */
export interface CvEntry {
  fields: Record<string, number>;
  f1A: number;
  f1B: number;
}

/** What the cross-validation found. */
export interface CvReport {
  halfA: string[];
  halfB: string[];
  entries: CvEntry[];
  /** Chosen on A, scored on B; chosen on B, scored on A (undefined: nothing admissible). */
  fitA: CvEntry | undefined;
  fitB: CvEntry | undefined;
  /** Best on both halves together (what a default chosen on the whole split would be). */
  fitAll: CvEntry | undefined;
  /**
   * Leave-one-out: the mean over the series of each one's F1 under the configuration best on all
   * the others, and the distinct configurations so chosen (NaN and [] when none is admissible).
   */
  looF1: number;
  looChosen: Record<string, number>[];
  /** Configurations checked for admissibility, and those that passed. */
  checked: number;
  admitted: number;
}

function combinations(grid: Readonly<Record<string, readonly number[]>>): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const [field, values] of Object.entries(grid)) {
    out = out.flatMap((c) => values.map((v) => ({ ...c, [field]: v })));
  }
  return out;
}

/** The admissible entry of highest score (ties to the earlier in grid order), or undefined. */
function best<E extends CvEntry>(
  entries: readonly E[],
  score: (e: E) => number,
  admissible: (e: E) => boolean,
): E | undefined {
  const order = entries.map((e, i) => ({ e, i }))
    .sort((a, b) => score(b.e) - score(a.e) || a.i - b.i);
  return order.find(({ e }) => admissible(e))?.e;
}

/** Each series scored with the admissible entry best on all the other series; their mean. */
function leaveOneOut<E extends CvEntry & { f1: Map<string, number> }>(
  names: readonly string[],
  entries: readonly E[],
  admissible: (e: E) => boolean,
): { f1: number; chosen: Record<string, number>[] } {
  let sum = 0;
  const chosen = new Set<E>();
  for (const held of names) {
    const others = (e: E) => names.reduce((t, n) => (n === held ? t : t + e.f1.get(n)!), 0);
    const e = best(entries, others, admissible);
    if (!e) return { f1: NaN, chosen: [] };
    chosen.add(e);
    sum += e.f1.get(held)!;
  }
  return { f1: sum / names.length, chosen: [...chosen].map((e) => e.fields) };
}

/** Runs the grid over the `scored` series of `dir` (every annotated series when none is given). */
export function crossValidate(
  dir: string,
  options: {
    base: CollapseConfig;
    scored?: readonly string[];
    admissible?: (config: CollapseConfig) => boolean;
  },
): CvReport {
  const annotations = readTcpdAnnotations(dir);
  if (!annotations) throw new Error(`--cv needs ${dir}/annotations.json`);
  const all = readTcpdDir(dir).filter((s) => annotations[s.name] !== undefined);
  const names = (options.scored ?? all.map((s) => s.name)).slice().sort();
  const series = names.map((n) => {
    const s = all.find((x) => x.name === n);
    if (!s) throw new Error(`--cv: series "${n}" has no data or annotations in ${dir}`);
    return s;
  });
  const halfA = names.filter((_, i) => i % 2 === 0);
  const halfB = names.filter((_, i) => i % 2 === 1);
  const entries = combinations(CV_GRID).map((fields) => {
    const config = parseCollapseConfig(fields, options.base, "cv");
    const f1 = new Map(series.map((s) => [
      s.name,
      f1Score(annotations[s.name]!, detectSeries(s.dimensions, config), MARGIN_DEFAULT).f1,
    ]));
    const avg = (half: string[]) => half.reduce((t, n) => t + f1.get(n)!, 0) / half.length;
    return { fields, config, f1, f1A: avg(halfA), f1B: avg(halfB) };
  });
  const verdicts = new Map<CvEntry, boolean>();
  const admissible = (e: CvEntry & { config: CollapseConfig }) => {
    if (!verdicts.has(e)) verdicts.set(e, options.admissible?.(e.config) ?? true);
    return verdicts.get(e)!;
  };
  const fitA = best(entries, (e) => e.f1A, admissible);
  const fitB = best(entries, (e) => e.f1B, admissible);
  const fitAll = best(entries, (e) => e.f1A * halfA.length + e.f1B * halfB.length, admissible);
  const loo = leaveOneOut(names, entries, admissible);
  const strip = (e: CvEntry | undefined) => e && { fields: e.fields, f1A: e.f1A, f1B: e.f1B };
  return {
    halfA,
    halfB,
    entries: entries.map((e) => strip(e)!),
    fitA: strip(fitA),
    fitB: strip(fitB),
    fitAll: strip(fitAll),
    looF1: loo.f1,
    looChosen: loo.chosen,
    checked: verdicts.size,
    admitted: [...verdicts.values()].filter((v) => v).length,
  };
}
