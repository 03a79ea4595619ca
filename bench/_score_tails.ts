/**
 * The anomaly score's tail by kind of channel (`troupe bench detect --tails`): of the samples
 * scored after the probation and outside every labelled window, the share whose published score
 * reaches each of several thresholds, and how many of them rise there from below. False anomaly
 * events per 1,000 samples differ by kind of channel; this says whether the score differs (its
 * tail) or the measure (labels covering more of one kind's samples, or an incident that stays open
 * absorbing later rises): an event opens at a rise to the threshold while no incident is open.
 */
import type { AnomalyWindow } from "../sim/mod.ts";

/** The thresholds a tail is measured at. */
export const TAIL_THRESHOLDS: readonly number[] = Object.freeze([0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1]);

/** One channel's (or kind's, once merged) published scores against its labels. */
export interface ScoreTail {
  /** Samples scored after the probation and outside every labelled window. */
  outside: number;
  /** Samples scored after the probation inside a labelled window. */
  labelled: number;
  /** Per threshold of TAIL_THRESHOLDS: samples outside the windows scoring at or above it. */
  above: number[];
  /** Per threshold: of those, the samples whose previous sample scored below it (rises). */
  rises: number[];
}

/** An empty tail. */
export function emptyTail(): ScoreTail {
  return {
    outside: 0,
    labelled: 0,
    above: TAIL_THRESHOLDS.map(() => 0),
    rises: TAIL_THRESHOLDS.map(() => 0),
  };
}

/** Which samples of a channel `channelTail` counts. */
export interface ChannelTailOptions {
  /** The channel's labelled windows: samples inside one count as labelled, not outside. */
  windows: readonly AnomalyWindow[];
  /** Samples before this time (the probation's end, in the feed's time) are not counted. */
  scoredFrom: number;
  /**
   * Samples at or after this time are not counted either (none when absent): a kind of channel
   * whose channels are longer would otherwise look quieter, as a novelty's false rises come
   * mostly early in a channel's life.
   */
  scoredTo?: number;
}

/**
 * The tail of one channel's scores `score` at times `t` (the same length), against its labelled
 * `windows`, counting samples from `scoredFrom` (and before `scoredTo` when given).
 */
export function channelTail(
  series: { t: ArrayLike<number>; score: ArrayLike<number> },
  options: ChannelTailOptions,
): ScoreTail {
  const { t, score } = series;
  if (t.length !== score.length) {
    throw new RangeError(`channelTail: ${t.length} times but ${score.length} scores`);
  }
  const out = emptyTail();
  const { windows } = options;
  const scoredTo = options.scoredTo ?? Infinity;
  let prev = 0;
  for (let i = 0; i < t.length; i++) {
    const ti = t[i]!, s = score[i]!;
    const last = prev;
    prev = s;
    if (ti < options.scoredFrom || ti >= scoredTo) continue;
    if (windows.some((w) => ti >= w.start && ti <= w.end)) {
      out.labelled++;
      continue;
    }
    out.outside++;
    for (let j = 0; j < TAIL_THRESHOLDS.length; j++) {
      const q = TAIL_THRESHOLDS[j]!;
      if (s < q) break;
      out.above[j]!++;
      if (last < q) out.rises[j]!++;
    }
  }
  return out;
}

/** Adds `b`'s counts into `a`; returns `a`. */
export function addTail(a: ScoreTail, b: ScoreTail): ScoreTail {
  a.outside += b.outside;
  a.labelled += b.labelled;
  for (let j = 0; j < TAIL_THRESHOLDS.length; j++) {
    a.above[j]! += b.above[j]!;
    a.rises[j]! += b.rises[j]!;
  }
  return a;
}

/** How `describeTails` introduces its figures. */
export interface DescribeTailsOptions {
  /** The bits of a full score, by which a threshold q promises 2^(-q * fullBits) per sample. */
  fullBits: number;
  /** When the tails count only each channel's first samples: how many. */
  firstSamples?: number;
}

/**
 * One line per kind: the share of samples labelled, and per threshold the samples outside the
 * windows at or above it per 1,000 (rises to it in brackets); then the max over min of each
 * threshold's rate across kinds, and what a threshold q promises (2^(-q * fullBits) per sample).
 */
export function describeTails(
  byKind: Record<string, ScoreTail>,
  options: DescribeTailsOptions,
): string[] {
  const { fullBits, firstSamples } = options;
  const perKilo = (n: number, of: number) => (of > 0 ? (1000 * n) / of : 0);
  const within = firstSamples === undefined
    ? ""
    : ` within each channel's first ${firstSamples} samples (every kind at the same age)`;
  const lines = [
    `anomaly score tail by kind, samples outside the labelled windows after the probation` +
    `${within}, per 1,000 at or above ${TAIL_THRESHOLDS.join(" / ")} (rises to it):`,
  ];
  for (const [kind, tail] of Object.entries(byKind)) {
    const cells = TAIL_THRESHOLDS.map((_, j) =>
      `${perKilo(tail.above[j]!, tail.outside).toFixed(3)} (${
        perKilo(tail.rises[j]!, tail.outside).toFixed(3)
      })`
    );
    const share = tail.labelled / Math.max(1, tail.labelled + tail.outside);
    lines.push(
      `  ${kind}: ${cells.join(" / ")}; ${(100 * share).toFixed(2)}% of ${
        tail.outside + tail.labelled
      } samples labelled`,
    );
  }
  const spread = TAIL_THRESHOLDS.map((_, j) => {
    const rates = Object.values(byKind).map((k) => perKilo(k.above[j]!, k.outside));
    const min = Math.min(...rates), max = Math.max(...rates);
    return min > 0 ? (max / min).toFixed(1) : "inf";
  });
  lines.push(`  max / min across kinds: ${spread.join(" / ")}`);
  lines.push(
    `  promised (2^(-q * ${fullBits}) per sample): ${
      TAIL_THRESHOLDS.map((q) => (1000 * 2 ** (-q * fullBits)).toFixed(3)).join(" / ")
    }`,
  );
  return lines;
}
