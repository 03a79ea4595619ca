/**
 * The page threshold from a false-alarm budget: pure arithmetic, derived on docs/methods/paging.md.
 * A finding's evidence is the surprise its kind states, in bits (−log2 of its tail probability, as
 * its kind declares: an anomaly score q claims 10q + 5). With S samples watched a day and a budget
 * of B false pages a day, Bonferroni's bound says a single sample pages when its surprise reaches
 * log2(S / B) bits; a group of k channels of one instance whose findings fall within one grouping
 * window pages when their summed surprise pays for every other group of k that could have been
 * chosen (the union bound over the channels and the samples of the window). The bits past the bound
 * are how far past the budget a page is, and its severity.
 */
import { findingKindOf, type FindingTail, type IncidentPeak } from "../../protocol/mod.ts";

/** Seconds in a day: the budget's unit. */
export const DAY_S = 86_400;

/** What the cluster watches: the channels, and the samples of all of them a day. */
export interface Census {
  channels: number;
  samples_per_day: number;
}

/**
 * The surprise of a member's strongest finding, in bits: as the stage read it (`peak.bits`, its
 * kind's tail); undefined for a kind that states none, or a member without a peak.
 */
export function findingBits(kind: string, peak: IncidentPeak | undefined): number | undefined {
  if (findingKindOf(kind)?.tail === undefined || peak?.bits === undefined) return undefined;
  return peak.bits;
}

/** The tail probability `bits` stands for. */
export function bitsProbability(bits: number): number {
  return 2 ** -bits;
}

/** Bits a single sample's finding must reach to page: log2(S / B), never below 0. */
export function budgetBits(census: Census, pagesPerDay: number): number {
  return Math.max(0, Math.log2(Math.max(1, census.samples_per_day) / pagesPerDay));
}

/** The per-sample tail probability a finding must reach to page alone: B / S (at most 1). */
export function pageThreshold(census: Census, pagesPerDay: number): number {
  return bitsProbability(budgetBits(census, pagesPerDay));
}

/**
 * The measure one finding of a kind read by `tail` must reach to page alone (an anomaly's
 * score); above the tail's `measure_max` when no single finding can.
 */
export function pageMeasure(tail: FindingTail, census: Census, pagesPerDay: number): number {
  return (budgetBits(census, pagesPerDay) - tail.free_bits) / tail.bits_per_unit;
}

/** log2 of n choose r. */
export function log2Choose(n: number, r: number): number {
  if (r <= 0 || r >= n) return 0;
  let sum = 0;
  for (let i = 1; i <= r; i++) sum += Math.log2((n - r + i) / i);
  return sum;
}

/** What a group's evidence is weighed with. */
export interface EvidenceOptions {
  census: Census;
  pagesPerDay: number;
  /** The grouping window, s: the findings of one incident fall within it of its first. */
  windowS: number;
}

/**
 * Bits past the budget of a group whose distinct channels' strongest findings have surprises
 * `bits` (one per channel): for the j strongest, their sum less log2(S / B) (where the first
 * falls), log2 C(N - 1, j - 1) (which other channels) and (j - 1) log2 w (which of the window's w
 * samples of each); the best j, less log2 k for having chosen it among the k. One channel: the
 * per-sample bound alone. Negative: below the budget.
 */
export function evidenceBits(bits: readonly number[], options: EvidenceOptions): number {
  if (bits.length === 0) return -Infinity;
  const { census, pagesPerDay, windowS } = options;
  const sorted = [...bits].sort((a, b) => b - a);
  const n = Math.max(census.channels, sorted.length);
  const perChannelPerS = census.samples_per_day / DAY_S / Math.max(1, census.channels);
  const w = Math.max(1, perChannelPerS * windowS);
  const base = budgetBits(census, pagesPerDay);
  let best = -Infinity, sum = 0;
  sorted.forEach((b, i) => {
    sum += b;
    best = Math.max(best, sum - base - log2Choose(n - 1, i) - i * Math.log2(w));
  });
  return best - Math.log2(sorted.length);
}

/**
 * The severity (1-5) of evidence `bits` past the budget: a page (3, 4, 5) for each decade past it
 * (under one, one to two, two and more), below it 2 within a decade and 1 further.
 */
export function budgetSeverity(bits: number): number {
  const decades = bits * Math.LOG10E * Math.LN2;
  if (decades < -1) return 1;
  if (decades < 0) return 2;
  if (decades < 1) return 3;
  if (decades < 2) return 4;
  return 5;
}

/** Severities from this one up are pages. */
export const PAGE_SEVERITY_MIN = 3;
