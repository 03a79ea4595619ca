/**
 * The configuration of the anomaly actor, read by its kernel and its machine alike. A control
 * message replaces it whole after `parseAnomalyConfig` has checked every field. The fields that
 * shape the model (`warmup_samples`, `bins`, `grids`, `tail_bins_per_octave`, `hour_buckets`,
 * `slope_span_samples`, `keys_max`) are fixed when an instance starts; the others apply at once.
 */
import { configObject, readNumber, rejectUnknown } from "../../protocol/mod.ts";

/** The anomaly actor's configuration. Units go last in the names. */
export interface AnomalyConfig {
  /**
   * Score at or above which an incident opens (the machine reports an anomaly). A score q means the
   * sample was q * `full_score_bits` bits surprising and, by the calibration, that the channel's
   * own raw scores have not recently risen that high more often than about once in
   * 2^(q * full_score_bits) samples.
   */
  threshold: number;
  /** Valid samples the model learns from before it scores (the bins are fixed from their range). */
  warmup_samples: number;
  /** Level and slope bins across the warm-up range. */
  bins: number;
  /**
   * Bin grids, each shifted by 1/grids of a bin from the last; the surprise is their average, so
   * where a bin edge happens to fall matters less (averaged shifted histograms).
   */
  grids: number;
  /** Bins per doubling of the distance beyond the warm-up range (wider bins further out). */
  tail_bins_per_octave: number;
  /** Time-of-day contexts (UTC): 24 is one per hour. */
  hour_buckets: number;
  /** Span of the exponentially weighted local slope, in samples. */
  slope_span_samples: number;
  /** A value beyond the range seen so far by this fraction of the range scores 1. */
  spatial_tolerance: number;
  /** Novelty surprise, in bits, that maps to a score of 1 (the score is bits / this, capped). */
  full_score_bits: number;
  /** After a reported score, weaker scores within this many samples are reported as 0. */
  refractory_samples: number;
  /** Half-width of the prediction band, in standard deviations (1.2533 mean absolute errors). */
  band_sigmas: number;
  /**
   * An incident ends after this many valid samples in a row score below the threshold. The
   * refractory period's length (30): past it a score is a new peak, so it opens a new incident;
   * longer, a second jump scored 31 to 99 samples after the first was no event at all, while the
   * incident stage had resolved the first's incident 30 s after it on a feed of 1 s ticks.
   */
  clear_samples: number;
  /** Cap on the distinct (context, bin) pairs remembered; past it, new pairs are not scored. */
  keys_max: number;
  /**
   * A level bin first seen less than this many hours ago is not new at any hour of the day: a
   * lasting shift is reported once, by the level view, not again at each hour. For as long after
   * an incident opens, time-of-day novelties are not scored, and a value beyond the range seen
   * that departs from its expected value no further than the incident's did is not 1 outright
   * (0: off).
   */
  settle_hours: number;
}

/** The defaults: one configuration for every channel (see actors/anomaly/README.md). */
export const defaultAnomalyConfig: Readonly<AnomalyConfig> = Object.freeze({
  threshold: 0.5,
  warmup_samples: 150,
  bins: 16,
  grids: 3,
  tail_bins_per_octave: 2,
  hour_buckets: 24,
  slope_span_samples: 10,
  spatial_tolerance: 0.05,
  full_score_bits: 10,
  refractory_samples: 30,
  band_sigmas: 3,
  clear_samples: 30,
  keys_max: 65_536,
  settle_hours: 24,
});

const FIELDS = Object.keys(defaultAnomalyConfig) as (keyof AnomalyConfig)[];

/** The largest `hour_buckets`. */
export const HOUR_BUCKETS_MAX = 96;
/** The largest `grids`: (hour_buckets + 2) contexts per grid must fit in 12 bits of a table key. */
export const GRIDS_MAX = 8;

/**
 * Reads an anomaly configuration over `base`: absent fields keep their base value; unknown fields
 * and out-of-range values throw ConfigError naming `path` and the field.
 */
export function parseAnomalyConfig(
  raw: unknown,
  base: AnomalyConfig,
  path: string,
): AnomalyConfig {
  const obj = configObject(raw, path);
  rejectUnknown(obj, FIELDS, path);
  const int = (min: number, max: number) => ({ min, max, integer: true });
  return {
    threshold: readNumber(obj, "threshold", path, base.threshold, { min: 0, max: 1 }),
    warmup_samples: readNumber(obj, "warmup_samples", path, base.warmup_samples, int(2, 1e7)),
    bins: readNumber(obj, "bins", path, base.bins, int(1, 4096)),
    grids: readNumber(obj, "grids", path, base.grids, int(1, GRIDS_MAX)),
    tail_bins_per_octave: readNumber(
      obj,
      "tail_bins_per_octave",
      path,
      base.tail_bins_per_octave,
      { min: 0.1, max: 64 },
    ),
    hour_buckets: readNumber(
      obj,
      "hour_buckets",
      path,
      base.hour_buckets,
      int(1, HOUR_BUCKETS_MAX),
    ),
    slope_span_samples: readNumber(
      obj,
      "slope_span_samples",
      path,
      base.slope_span_samples,
      { min: 1, max: 1e6 },
    ),
    spatial_tolerance: readNumber(obj, "spatial_tolerance", path, base.spatial_tolerance, {
      min: 0,
      max: 1e6,
    }),
    full_score_bits: readNumber(obj, "full_score_bits", path, base.full_score_bits, {
      min: 0.1,
      max: 64,
    }),
    refractory_samples: readNumber(
      obj,
      "refractory_samples",
      path,
      base.refractory_samples,
      int(0, 1e9),
    ),
    band_sigmas: readNumber(obj, "band_sigmas", path, base.band_sigmas, { min: 0, max: 1e3 }),
    clear_samples: readNumber(obj, "clear_samples", path, base.clear_samples, int(1, 1e9)),
    keys_max: readNumber(obj, "keys_max", path, base.keys_max, int(16, 1 << 22)),
    settle_hours: readNumber(obj, "settle_hours", path, base.settle_hours, { min: 0, max: 1e6 }),
  };
}
