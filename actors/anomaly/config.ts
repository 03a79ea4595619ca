/**
 * The configuration of the anomaly actor, read by its kernel and its machine alike. A control
 * message replaces it whole after `parseAnomalyConfig` has checked every field. `warmup_samples`,
 * `bins` and `grids` shape the model and are fixed when an instance starts; the others apply at
 * once. Each default's origin is in the method page's settings table (docs/methods/anomaly.md).
 */
import { configObject, readNumber, rejectUnknown } from "../../protocol/mod.ts";

/** The anomaly actor's configuration. Units go last in the names. */
export interface AnomalyConfig {
  /** Score at or above which an incident opens: q means q * `full_score_bits` bits of surprise. */
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
  /** A value beyond the range seen so far by this fraction of the range scores 1. */
  spatial_tolerance: number;
  /** Surprise, in bits, that maps to a score of 1 (the score is bits / this, capped). */
  full_score_bits: number;
  /**
   * After a reported score, weaker scores within this many samples are reported as 0; an incident
   * ends after as many valid samples in a row below the threshold, at least one (past it a score
   * is a new peak).
   */
  refractory_samples: number;
  /** Half-width of the prediction band, in standard deviations (display only: no score moves). */
  band_sigmas: number;
  /**
   * For this long after an incident opens (µs), a sample stating at least one bit more against the
   * reference the opening was read against restates its finding (0: never; _restate.ts).
   */
  restate_us: number;
}

/** The defaults: one configuration for every channel. */
export const defaultAnomalyConfig: Readonly<AnomalyConfig> = Object.freeze({
  threshold: 0.5,
  warmup_samples: 150,
  bins: 16,
  grids: 3,
  spatial_tolerance: 0.05,
  full_score_bits: 10,
  refractory_samples: 30,
  band_sigmas: 3,
  restate_us: 60_000_000,
});

const FIELDS = Object.keys(defaultAnomalyConfig) as (keyof AnomalyConfig)[];

/** The largest `grids`: HOURS + 3 contexts per grid must fit in 12 bits of a table key. */
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
  const read = (field: keyof AnomalyConfig, limits: { min: number; max: number }) =>
    readNumber(obj, field, path, base[field], limits);
  return {
    threshold: read("threshold", { min: 0, max: 1 }),
    warmup_samples: read("warmup_samples", int(2, 1e7)),
    bins: read("bins", int(1, 4096)),
    grids: read("grids", int(1, GRIDS_MAX)),
    spatial_tolerance: read("spatial_tolerance", { min: 0, max: 1e6 }),
    full_score_bits: read("full_score_bits", { min: 0.1, max: 64 }),
    refractory_samples: read("refractory_samples", int(0, 1e9)),
    band_sigmas: read("band_sigmas", { min: 0, max: 1e3 }),
    restate_us: read("restate_us", { min: 0, max: 1e12 }),
  };
}
