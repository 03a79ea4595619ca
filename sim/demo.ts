/**
 * The configuration `troupe up` runs its synthetic market with, so that each kind shows what it
 * finds within the first minute, and that `troupe bench detect` scores the market feed with:
 * - collapse: prices are random walks, so a regime's level may wander (`level_drift` 1000 noise
 *   variances per tick: a walk with little noise around it); a crash is then one change, where the
 *   flat default reads a random walk as a change every few dozen ticks. A price shock unfolds over
 *   several ticks, so two changes are told apart only DEMO_MIN_GAP_TICKS apart (`min_gap_samples`);
 *   and volatility clusters, so a regime's noise level may wander too (`noise_half_life_samples`
 *   DEMO_NOISE_HALF_LIFE);
 * - coherence: bars of DEMO_BAR_TICKS ticks, a 10-bar covariance, a 5-bar over 200-bar shift and a
 *   50-bar warm-up (the defaults, one-second bars and 250 bars of warm-up, suit minutes of data);
 * - the feed: crashes four times as often as the feed's default, so a minute usually holds one.
 *
 * `troupe up --feed metrics` and `troupe inject --feed metrics` run the metrics feed with the
 * collapse actor's settings for service metrics instead (metricsActorConfigs), the ones `troupe
 * bench detect` scores that feed with.
 */
import { metricsCollapseConfig } from "../actors/collapse/mod.ts";

/** Ticks per coherence bar. */
export const DEMO_BAR_TICKS = 5;
/** Half-life of the demo's coherence covariance, in bars. */
export const DEMO_COVARIANCE_HALF_LIFE_BARS = 10;
/** Coherence bars before its shift is trusted. */
export const DEMO_WARMUP_BARS = 50;
/**
 * Bars in a row a new coherence phase must hold (coherence's `change_for_bars`): two half-lives of
 * the demo's covariance (10 bars), so that a phase is taken only once the covariance has forgotten
 * three quarters of what it knew when the shift crossed its entry level, not on one burst of
 * returns it is still digesting. A shorter hold flaps on a calm market at troupe up's pace; a
 * longer one misses short stressed spells. `troupe bench incidents` measures both: coherence
 * changes a minute on its calm market, and the stressed spells met (`--misses`).
 */
export const DEMO_CHANGE_FOR_BARS = 2 * DEMO_COVARIANCE_HALF_LIFE_BARS;
/** Crashes per tick (calm regime) of the demo's market feed. */
export const DEMO_CRASH_RATE = 2e-4;
/**
 * Ticks within which a price regime that begins after a change is that change, not another
 * (collapse's `min_gap_samples`; 5 by default). A crash falls over 1 to 5 ticks, and the regime
 * the kernel dates at its first tick holds those ticks' large moves in its noise, where one that
 * began once the fall was over does not: that one overtook it hundreds of ticks later, a second
 * change for one crash. On the market feed the regime that overtook began a few ticks after the
 * reported change, after nearly every crash; reported long after it began, such a change is
 * dated at the oldest tick kept, far from its crash, and made most of the feed's false changes.
 * 20 covers the ticks seen (docs/methods/collapse.md, "How settings were chosen").
 */
export const DEMO_MIN_GAP_TICKS = 20;
/**
 * Half-life, in ticks, of what a price regime has learnt of its noise (collapse's
 * `noise_half_life_samples`; 0, never forgotten, by default). Volatility clusters: the market
 * feed's stressed spells have about twice the calm spells' volatility, and a large move inside
 * one, read against a regime's noise averaged over calm and stressed spells alike, was a change.
 * A half-life of 5000 ticks took most of those false changes away and found the crashes as before
 * (docs/methods/collapse.md). A shorter one follows a stressed spell's volatility so closely that
 * a crash within one reads as a few volatile ticks, which the walk then takes in.
 */
export const DEMO_NOISE_HALF_LIFE = 5000;

/** Per-kind configuration over the defaults, for a market whose ticks are `intervalUs` apart. */
export function demoActorConfigs(intervalUs: number): Record<string, Record<string, unknown>> {
  if (!(Number.isFinite(intervalUs) && intervalUs >= 1)) {
    throw new RangeError(`demoActorConfigs(): intervalUs must be >= 1, got ${intervalUs}`);
  }
  return {
    stats: {},
    anomaly: {},
    collapse: {
      level_drift: 1000,
      min_gap_samples: DEMO_MIN_GAP_TICKS,
      noise_half_life_samples: DEMO_NOISE_HALF_LIFE,
    },
    coherence: {
      bar_us: Math.max(1, Math.round(DEMO_BAR_TICKS * intervalUs)),
      warmup_bars: DEMO_WARMUP_BARS,
      half_life_bars: DEMO_COVARIANCE_HALF_LIFE_BARS,
      shift_short_half_life_bars: 5,
      shift_long_half_life_bars: 200,
      change_for_bars: DEMO_CHANGE_FOR_BARS,
    },
  };
}

/** The one line `troupe up` prints about it. */
export function describeDemo(intervalUs: number): string {
  const bar = DEMO_BAR_TICKS * intervalUs / 1000;
  return `demo settings: collapse level_drift 1000 (prices are random walks), min_gap_samples ` +
    `${DEMO_MIN_GAP_TICKS} (a shock takes several ticks), noise_half_life_samples ` +
    `${DEMO_NOISE_HALF_LIFE} (volatility clusters); coherence bars of ` +
    `${DEMO_BAR_TICKS} ticks (${bar} ms), warm-up ${DEMO_WARMUP_BARS} bars ` +
    `(${(bar * DEMO_WARMUP_BARS / 1000).toFixed(1)} s), a phase held ${DEMO_CHANGE_FOR_BARS} ` +
    `bars before it changes; crashes every ~${Math.round(1 / DEMO_CRASH_RATE)} ticks`;
}

/** Per-kind configuration over the defaults for service metrics (the metrics feed, or a user's). */
export function metricsActorConfigs(): Record<string, Record<string, unknown>> {
  return { collapse: { ...metricsCollapseConfig } };
}

/** The one line `troupe up --feed metrics` and `troupe inject --feed metrics` print about it. */
export function describeMetricsSettings(): string {
  const c = metricsCollapseConfig;
  return `metrics settings: collapse season_us ${c.season_us} (a daily cycle, ` +
    `${c.season_harmonics} harmonic, learned during the first day), season_weekend ` +
    `${c.season_weekend} (Saturdays and Sundays UTC have their own level and swing), ar_max ` +
    `${c.ar_max} (serially correlated noise), level_drift ${c.level_drift} (a regime's level ` +
    `wanders slowly)`;
}
