/**
 * The configuration of the collapse actor: the change-point model's prior and hazard, the
 * probabilities at which a change is suspected and confirmed, and the bounds that keep each
 * sample's cost fixed. Kernel and machine read the same object; a control message replaces it
 * whole, after `parseCollapseConfig` has checked every field.
 */
import {
  ConfigError,
  configObject,
  type NumberBounds,
  readNumber,
  rejectUnknown,
} from "../../protocol/mod.ts";
import { SEASON_HARMONICS_MAX } from "./_season.ts";

/** The collapse actor's configuration. Units go last in the names. */
export interface CollapseConfig {
  /** Prior probability that a change begins at any one sample (1 / expected segment length). */
  hazard: number;
  /** Posterior probability of a new regime at which the machine goes to `suspect`. */
  suspect_threshold: number;
  /** Posterior probability of a new regime at which a change is confirmed and reported. */
  confirm_threshold: number;
  /** Consecutive samples that must reach confirm_threshold before a change is confirmed. */
  confirm_samples: number;
  /** Prior probability that one sample is an outlier (drawn from the broad prior predictive). */
  outlier_prob: number;
  /** A new change must begin at least this many samples after the previous one. */
  min_gap_samples: number;
  /** Hard cap on the run-length hypotheses kept: each sample costs O(runs_max). */
  runs_max: number;
  /** Run-length hypotheses with a posterior below this are dropped. */
  prune_prob: number;
  /** Prior strength of a new regime's mean, in samples (normal-gamma kappa0). */
  prior_kappa: number;
  /**
   * Prior shape of a new regime's precision (normal-gamma alpha0); the predictive has 2*alpha0 dof.
   */
  prior_alpha: number;
  /**
   * Prior standard deviation of a new regime's slope, in noise scales per sample (0: every regime
   * is flat, the piecewise-constant model).
   */
  slope_prior: number;
  /**
   * 1: a new regime's slope prior is centred on the slope of the most probable regime (a shift
   * in a trending channel keeps its trend unless the samples say otherwise); 0: centred on 0
   * (every new regime is presumed flat until its samples tilt it).
   */
  slope_carry: number;
  /**
   * Drift of a regime's level per sample, as a variance in noise variances (0: a regime's line is
   * fixed; above 0 it may wander as a random walk of that step variance).
   */
  level_drift: number;
  /** Drift of a regime's slope per sample, as a variance in noise variances per sample squared. */
  slope_drift: number;
  /**
   * Half-life, in samples, of what a regime has learnt of its noise variance (0: never forgotten,
   * the noise level is a regime's constant). Above 0 the noise level may wander within a regime,
   * as the volatility of prices does, so that a change of volatility alone is not a new regime:
   * a change is then a jump or a new slope that the recent noise cannot explain.
   */
  noise_half_life_samples: number;
  /**
   * Period of the channel's season in microseconds of the samples' timestamps (e.g. 86400e6 for a
   * daily cycle; 0: no season). The season is fitted online as `season_harmonics` harmonics of it
   * and taken out before the regimes are modelled, so a seasonal swing is not a change.
   */
  season_us: number;
  /** Harmonics of the season's period fitted (1 to SEASON_HARMONICS_MAX). */
  season_harmonics: number;
  /**
   * 1: the season also fits a weekend (Saturday and Sunday UTC, with ramps of a few hours around
   * midnight) with its own level and its own swing of the first harmonic, as service load has; 0:
   * every day alike. Only with a season (`season_us` > 0).
   */
  season_weekend: number;
  /**
   * Cap of the residuals' lag-1 autocorrelation phi, estimated online from the most probable
   * regime's one-step residuals (0: residuals are taken as independent). With phi > 0 each sample
   * is prewhitened (x - phi x_prev, the regime's line likewise), so serially correlated noise
   * carries the evidence of (1 - phi) / (1 + phi) independent samples, not of one each.
   */
  ar_max: number;
  /** Half-life of the running noise scale that sets the prior's spread, in samples. */
  scale_half_life_samples: number;
  /** A time step over gap_factor times the usual interval counts the missed samples (0: off). */
  gap_factor: number;
  /** Samples after a change before the machine may go from `recovering` to `stable`. */
  recover_samples: number;
}

/**
 * Defaults: slope_prior, outlier_prob and hazard chosen by `troupe bench cpd --data
 * ../shared/datasets/tcpd-dev --cv` (2-fold cross-validation over TCPD's dev split, among settings
 * that meet the synthetic bars of `troupe bench cpd --synthetic`); the rest from the synthetic
 * benchmark. level_drift, slope_drift and prior_alpha above 0.6 fail the synthetic bars. With
 * slope_carry the same grid chose slope_prior 0.1 and hazard 3/10,000 on both halves together
 * and on half B (see SLOPE_CARRIED in kernel.ts; docs/methods/collapse.md has the table).
 */
export const defaultCollapseConfig: Readonly<CollapseConfig> = Object.freeze({
  hazard: 3 / 10_000,
  suspect_threshold: 0.5,
  confirm_threshold: 0.99,
  confirm_samples: 1,
  outlier_prob: 0.2,
  min_gap_samples: 5,
  runs_max: 8,
  prune_prob: 1e-9,
  prior_kappa: 0.1,
  prior_alpha: 0.6,
  slope_prior: 0.1,
  slope_carry: 1,
  level_drift: 0,
  slope_drift: 0,
  noise_half_life_samples: 0,
  season_us: 0,
  season_harmonics: 1,
  season_weekend: 0,
  ar_max: 0,
  scale_half_life_samples: 200,
  gap_factor: 3,
  recover_samples: 50,
});

/**
 * The regime level's drift in the settings for service metrics, in noise variances per sample: a
 * random walk of about 0.65 noise scales over a day of minutes. A service's load moves in ways the
 * daily season and the regime's line do not hold exactly (a daily swing that grows with the load,
 * a weekend that comes in at its own speed), and with a fixed line each such misfit builds up
 * until a new regime explains it better: a false change, hours after it began. A level that may
 * wander this little takes them in, while a level shift or a drift of a few noise scales within
 * hours is still far beyond it. Chosen on the metrics feed (`troupe bench detect`, seeds 1 to 5)
 * as the largest drift that still finds the labelled changes: larger ones follow drifts instead.
 * The settings, with where each value comes from, are in docs/methods/collapse.md.
 */
export const METRICS_LEVEL_DRIFT = 3e-4;

/**
 * The hazard and slope prior of the settings for service metrics: the defaults before TCPD's
 * cross-validation moved them, on which the metrics settings were tuned
 * (docs/methods/collapse.md). The metrics feed's lasting changes come at about this
 * rate, and its regimes' slopes (a service's growth) are held by the season and the level's drift.
 */
export const METRICS_HAZARD = 1 / 1000;
export const METRICS_SLOPE_PRIOR = 0.2;

/**
 * The settings that suit service metrics (CPU, latency, requests, memory): a daily cycle (one
 * harmonic of a day, fitted online from the samples' timestamps, so a user's own metrics need no
 * constants of theirs), a weekend with its own level and swing (Saturday and Sunday UTC),
 * serially correlated noise (the residuals' autocorrelation estimated online, up to 0.9), and a
 * regime level that wanders slowly (`level_drift`, METRICS_LEVEL_DRIFT). `troupe up --feed
 * metrics`, `troupe inject --feed metrics` and `troupe bench detect` run the metrics feed with
 * them; `troupe ctl collapse --set` applies them to a user's own channels.
 */
export const metricsCollapseConfig: Readonly<Partial<CollapseConfig>> = Object.freeze({
  hazard: METRICS_HAZARD,
  slope_prior: METRICS_SLOPE_PRIOR,
  slope_carry: 0,
  season_us: 86_400e6,
  season_harmonics: 1,
  season_weekend: 1,
  ar_max: 0.9,
  level_drift: METRICS_LEVEL_DRIFT,
});

const FIELDS: readonly (keyof CollapseConfig)[] = Object.keys(
  defaultCollapseConfig,
) as (keyof CollapseConfig)[];

/** The bounds of `runs_max`: at least the run in progress and a new one. */
export const RUNS_MAX_LIMIT = 4096;

/** Each field's bounds, in FIELDS' order: hazard and the thresholds are probabilities in (0, 1). */
const OPEN = { min: Number.MIN_VALUE, max: 1 - Number.EPSILON };
const BOUNDS: Readonly<Record<keyof CollapseConfig, NumberBounds>> = {
  hazard: OPEN,
  suspect_threshold: OPEN,
  confirm_threshold: OPEN,
  confirm_samples: { min: 1, max: 64, integer: true },
  outlier_prob: { min: 0, max: 0.5 },
  min_gap_samples: { min: 0, max: 1_000_000, integer: true },
  runs_max: { min: 2, max: RUNS_MAX_LIMIT, integer: true },
  prune_prob: { min: 0, max: 0.01 },
  prior_kappa: { min: 1e-6, max: 1e6 },
  prior_alpha: { min: 0.5, max: 1e6 },
  slope_prior: { min: 0, max: 1e3 },
  slope_carry: { min: 0, max: 1, integer: true },
  level_drift: { min: 0, max: 1e3 },
  slope_drift: { min: 0, max: 1e3 },
  noise_half_life_samples: { min: 0, max: 1e9 },
  season_us: { min: 0, max: 1e15 },
  season_harmonics: { min: 1, max: SEASON_HARMONICS_MAX, integer: true },
  season_weekend: { min: 0, max: 1, integer: true },
  ar_max: { min: 0, max: 0.95 },
  scale_half_life_samples: { min: 1, max: 1e9 },
  gap_factor: { min: 0, max: 1e9 },
  recover_samples: { min: 0, max: 1e9, integer: true },
};

/**
 * Reads a collapse configuration over `base`: absent fields keep their base value, unknown fields
 * and out-of-range values throw ConfigError naming `path` and the field.
 */
export function parseCollapseConfig(
  raw: unknown,
  base: CollapseConfig,
  path: string,
): CollapseConfig {
  const obj = configObject(raw, path);
  rejectUnknown(obj, FIELDS, path);
  // Built in FIELDS' order, whatever `base` holds, so a config serialises the same every time.
  const config = {} as CollapseConfig;
  for (const key of FIELDS) config[key] = readNumber(obj, key, path, base[key], BOUNDS[key]);
  checkRelations(config, path);
  return config;
}

/**
 * The checks no one field's bounds can say: the gaps between 0 (off) and 1, and the thresholds'
 * order.
 */
function checkRelations(config: CollapseConfig, path: string): void {
  if (config.gap_factor > 0 && config.gap_factor < 1) {
    const at = path ? `${path}.gap_factor` : "gap_factor";
    throw new ConfigError(
      at,
      `Field "${at}" must be 0 (off) or >= 1, got ${config.gap_factor}`,
      { value: config.gap_factor },
    );
  }
  const hl = config.noise_half_life_samples;
  if (hl > 0 && hl < 1) {
    const at = path ? `${path}.noise_half_life_samples` : "noise_half_life_samples";
    throw new ConfigError(at, `Field "${at}" must be 0 (off) or >= 1, got ${hl}`, { value: hl });
  }
  if (config.suspect_threshold > config.confirm_threshold) {
    const at = path ? `${path}.suspect_threshold` : "suspect_threshold";
    throw new ConfigError(
      at,
      `Field "${at}" must be <= confirm_threshold (${config.confirm_threshold}), got ` +
        `${config.suspect_threshold}`,
      { value: config.suspect_threshold },
    );
  }
}
