/**
 * The configuration `troupe up` runs its synthetic market with, so that each kind shows what it
 * finds within the first minute, and that `troupe bench detect` scores the market feed with:
 * - collapse: prices are random walks, so a regime's level may wander (`level_drift` 1000 noise
 *   variances per tick: a walk with little noise around it); a crash is then one change, where the
 *   flat default reads a random walk as a change every few dozen ticks;
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
/** Coherence bars before its shift is trusted. */
export const DEMO_WARMUP_BARS = 50;
/** Crashes per tick (calm regime) of the demo's market feed. */
export const DEMO_CRASH_RATE = 2e-4;

/** Per-kind configuration over the defaults, for a market whose ticks are `intervalUs` apart. */
export function demoActorConfigs(intervalUs: number): Record<string, Record<string, unknown>> {
  if (!(Number.isFinite(intervalUs) && intervalUs >= 1)) {
    throw new RangeError(`demoActorConfigs(): intervalUs must be >= 1, got ${intervalUs}`);
  }
  return {
    stats: {},
    anomaly: {},
    collapse: { level_drift: 1000 },
    coherence: {
      bar_us: Math.max(1, Math.round(DEMO_BAR_TICKS * intervalUs)),
      warmup_bars: DEMO_WARMUP_BARS,
      half_life_bars: 10,
      shift_short_half_life_bars: 5,
      shift_long_half_life_bars: 200,
    },
  };
}

/** The one line `troupe up` prints about it. */
export function describeDemo(intervalUs: number): string {
  const bar = DEMO_BAR_TICKS * intervalUs / 1000;
  return `demo settings: collapse level_drift 1000 (prices are random walks); coherence bars of ` +
    `${DEMO_BAR_TICKS} ticks (${bar} ms), warm-up ${DEMO_WARMUP_BARS} bars ` +
    `(${(bar * DEMO_WARMUP_BARS / 1000).toFixed(1)} s); crashes every ~${
      Math.round(1 / DEMO_CRASH_RATE)
    } ticks`;
}

/** Per-kind configuration over the defaults for service metrics (the metrics feed, or a user's). */
export function metricsActorConfigs(): Record<string, Record<string, unknown>> {
  return { collapse: { ...metricsCollapseConfig } };
}

/** The one line `troupe up --feed metrics` and `troupe inject --feed metrics` print about it. */
export function describeMetricsSettings(): string {
  const c = metricsCollapseConfig;
  return `metrics settings: collapse season_us ${c.season_us} (a daily cycle, ${c.season_harmonics} ` +
    `harmonic, learned during the first day), season_weekend ${c.season_weekend} (Saturdays and ` +
    `Sundays UTC have their own level and swing), ar_max ${c.ar_max} (serially correlated noise), ` +
    `level_drift ${c.level_drift} (a regime's level wanders slowly)`;
}
