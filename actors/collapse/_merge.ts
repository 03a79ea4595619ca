/**
 * Keeps the run-length hypotheses under their cap by merging two neighbours, so a sample costs
 * O(runs_max) however long the channel has run.
 */
import { type CollapseState, RUN_FIELDS } from "./_state.ts";

/**
 * Merges the pair of neighbouring hypotheses (kept in order of start) that are most alike and least
 * missed: the smallest gap between their starts relative to the age of the newer one (their
 * posteriors are then nearly the same), weighted by the square root of the smaller mass. Recent
 * starts thus stay finely resolved, old regimes coarsely, and a probable start outlives an
 * improbable one. The merged hypothesis keeps the sum of the masses and the statistics of the
 * more probable. A pair on both sides of `newer` (the first start that counts as a new regime) is
 * merged only if no other pair can be, so that merging never moves mass into or out of the change
 * probability. Returns the new count.
 */
export function mergeClosest(state: CollapseState, runs: number, j: number, newer: number): number {
  const { prob, start } = state;
  // Scores are compared squared, as gap^2 pmin / age^2, by cross-multiplying.
  let at = -1;
  let numAt = 1;
  let ageAt = 0;
  for (let i = 0; i + 1 < runs; i++) {
    const s0 = start[i]!;
    const s1 = start[i + 1]!;
    if (s0 <= newer && s1 > newer) continue;
    const p0 = prob[i]!;
    const p1 = prob[i + 1]!;
    const gap = s1 - s0;
    const num = gap * gap * (p0 < p1 ? p0 : p1);
    const age = j - s1;
    if (num * ageAt * ageAt < numAt * age * age) {
      at = i;
      numAt = num;
      ageAt = age;
    }
  }
  if (at < 0) at = runs - 2;
  const q = at + 1;
  const mass = prob[at]! + prob[q]!;
  const columns = state.columns;
  if (prob[q]! > prob[at]!) {
    for (let f = 1; f < RUN_FIELDS; f++) columns[f]![at] = columns[f]![q]!;
  }
  prob[at] = mass;
  for (const column of columns) column.copyWithin(q, q + 1, runs);
  return runs - 1;
}
