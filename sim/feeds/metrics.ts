/**
 * Synthetic service metrics: per service, `cpu` (%), `latency_ms`, `requests` (per interval),
 * `errors` (counts) and `memory` (%), each a load curve with daily seasonality (peak mid-afternoon
 * UTC), a weekend dip, a trend, and noise (AR(1), or Poisson counts for errors, whose lasting
 * changes move the rate the counts are drawn at), with injected anomalies:
 * - `spike`: one to three samples far above (or below) the curve;
 * - `level_shift`: the level moves by a fixed amount, for good (also a `level_shift` change point);
 * - `drift`: the level ramps to a new one over 100 to 400 samples, then stays (also a `drift`
 *   change point at the ramp's start);
 * - `flatline`: the value freezes at its last reading for 30 to 200 samples (a stuck exporter).
 * Each anomaly is labelled with a NAB-style window: `windowSamples` before its onset to
 * `windowSamples` after its last affected sample. Anomalies of a channel never overlap, none falls
 * in the first `warmupSamples`, and they come on average every `anomalyEverySamples` samples.
 *
 * Channels are `<service>-<metric>`: services `api`, `web`, `db`, `cache`, `queue`, `auth`,
 * `search`, `billing`, then `api2`, `web2`, ...; metrics in the order above, so `series: 7` gives
 * the five metrics of `api` and `web-cpu`, `web-latency_ms`.
 */
import {
  ConfigError,
  describeValue,
  readBoolean,
  readNumber,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { Prng } from "../prng/mod.ts";
import { cosFast, weekendness } from "../../actors/math/mod.ts";
import type { AnomalyWindow, ChangePoint, Feed, FeedOptions, GroundTruth } from "./feed.ts";
import { optionRecord, readCommon, readPositive, rejectUnknownOptions } from "./_options.ts";

/** The anomaly kinds the metrics feed injects. */
export const METRIC_ANOMALY_KINDS = ["spike", "level_shift", "drift", "flatline"] as const;
/** One of METRIC_ANOMALY_KINDS. */
export type MetricAnomalyKind = typeof METRIC_ANOMALY_KINDS[number];

/** Options of the metrics feed. */
export interface MetricsOptions extends FeedOptions {
  /** Number of series (channels), 1 to 10000. Default 10. */
  series?: number;
  /** Microseconds between samples. Default 60 s. */
  intervalUs?: number;
  /** Whether to inject anomalies. Default true. */
  anomalies?: boolean;
  /** The kinds to inject. Default all of METRIC_ANOMALY_KINDS. */
  anomalyKinds?: MetricAnomalyKind[];
  /** Mean samples between anomalies of one channel. Default 2000. */
  anomalyEverySamples?: number;
  /** Samples at the start free of anomalies. Default 500. */
  warmupSamples?: number;
  /** Samples added before and after each anomaly for its scoring window. Default 50. */
  windowSamples?: number;
  /** Scales the daily and weekly amplitudes (0: none). Default 1. */
  seasonality?: number;
  /** Scales the trends (0: none). Default 1. */
  trend?: number;
  /**
   * Scales the noise (0: none; errors, Poisson counts, have Poisson noise at any other value).
   * Default 1.
   */
  noise?: number;
}

const KNOWN = [
  "seed",
  "batch",
  "startUs",
  "series",
  "intervalUs",
  "anomalies",
  "anomalyKinds",
  "anomalyEverySamples",
  "warmupSamples",
  "windowSamples",
  "seasonality",
  "trend",
  "noise",
] as const;

const SERVICES = ["api", "web", "db", "cache", "queue", "auth", "search", "billing"];
const METRICS = ["cpu", "latency_ms", "requests", "errors", "memory"] as const;
type Metric = typeof METRICS[number];

const DAY_US = 86_400e6;
/** The weekend dip comes in and goes over an hour either side of Saturday and Monday 00:00 UTC. */
const WEEKEND_RAMP_US = 3_600e6;
const AR_PHI = 0.5;

type Resolved = Required<Omit<MetricsOptions, "anomalyKinds">> & {
  anomalyKinds: MetricAnomalyKind[];
};

function resolve(raw: unknown): Resolved {
  const obj = optionRecord(raw);
  rejectUnknownOptions(obj, KNOWN, "metrics");
  let kinds: MetricAnomalyKind[] = [...METRIC_ANOMALY_KINDS];
  if (obj.anomalyKinds !== undefined) {
    const k = obj.anomalyKinds;
    const known = METRIC_ANOMALY_KINDS as readonly unknown[];
    const bad = Array.isArray(k) ? k.findIndex((x) => !known.includes(x)) : -1;
    if (!Array.isArray(k) || k.length === 0 || bad >= 0) {
      const got = Array.isArray(k) && bad >= 0
        ? `element ${bad} is ${describeValue(k[bad])}`
        : `got ${describeValue(k)}`;
      throw new ConfigError(
        "anomalyKinds",
        `Field "anomalyKinds" must be a non-empty list of ${
          METRIC_ANOMALY_KINDS.join(", ")
        }; ${got}`,
        { value: k },
      );
    }
    kinds = [...new Set(k as MetricAnomalyKind[])];
  }
  return {
    ...readCommon(obj),
    series: readNumber(obj, "series", "", 10, { integer: true, min: 1, max: 10_000 }),
    intervalUs: readPositive(obj, "intervalUs", 60_000_000),
    anomalies: readBoolean(obj, "anomalies", "", true),
    anomalyKinds: kinds,
    anomalyEverySamples: readPositive(obj, "anomalyEverySamples", 2000),
    warmupSamples: readNumber(obj, "warmupSamples", "", 500, { integer: true, min: 0 }),
    windowSamples: readNumber(obj, "windowSamples", "", 50, { integer: true, min: 0 }),
    seasonality: readNumber(obj, "seasonality", "", 1, { min: 0, max: 1 }),
    trend: readNumber(obj, "trend", "", 1, { min: 0, max: 100 }),
    noise: readNumber(obj, "noise", "", 1, { min: 0, max: 100 }),
  };
}

/** The channel names of a metrics feed of `n` series. */
export function metricChannels(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const s = Math.floor(i / METRICS.length);
    const round = Math.floor(s / SERVICES.length);
    const service = `${SERVICES[s % SERVICES.length]}${round ? round + 1 : ""}`;
    return `${service}-${METRICS[i % METRICS.length]}`;
  });
}

/** Creates a metrics feed. Throws a ConfigError naming a bad option. */
export function createMetricsFeed(options: MetricsOptions = {}): Feed {
  return new MetricsFeed(resolve(options));
}

const NONE = 0, SPIKE = 1, DRIFT = 2, FLAT = 3;

/** One channel's curve and its anomaly state. */
interface Series {
  metric: Metric;
  base: number;
  daily: number;
  weekend: number;
  trendPerDay: number;
  /** Noise standard deviation as a fraction of the level. */
  noiseRel: number;
  clipMax: number;
  /** The size anomalies are scaled by, in the channel's units. */
  scale: number;
  ar: number;
  offset: number;
  last: number;
  effect: number;
  effectFrom: number;
  effectTo: number;
  effectSize: number;
  nextAt: number;
}

/**
 * How each metric looks: ranges its channels draw from, noise (a fraction of the level), ceiling.
 */
const PROFILES: Record<Metric, {
  base: [number, number];
  daily: [number, number];
  weekend: [number, number];
  trendPerDay: [number, number];
  noise: number;
  clipMax: number;
}> = {
  cpu: {
    base: [20, 50],
    daily: [0.2, 0.4],
    weekend: [0.1, 0.3],
    trendPerDay: [-0.002, 0.01],
    noise: 0.06,
    clipMax: 100,
  },
  latency_ms: {
    base: [40, 200],
    daily: [0.1, 0.25],
    weekend: [0.05, 0.15],
    trendPerDay: [0, 0.005],
    noise: 0.08,
    clipMax: Infinity,
  },
  requests: {
    base: [500, 5000],
    daily: [0.4, 0.7],
    weekend: [0.2, 0.5],
    trendPerDay: [0, 0.01],
    noise: 0.04,
    clipMax: Infinity,
  },
  // Poisson counts: their noise is the square root of the level.
  errors: {
    base: [0.5, 5],
    daily: [0.3, 0.6],
    weekend: [0.2, 0.4],
    trendPerDay: [0, 0],
    noise: 0,
    clipMax: Infinity,
  },
  memory: {
    base: [30, 60],
    daily: [0.02, 0.06],
    weekend: [0, 0],
    trendPerDay: [0.005, 0.02],
    noise: 0.01,
    clipMax: 100,
  },
};

function makeSeries(metric: Metric, rng: Prng, o: Resolved): Series {
  const p = PROFILES[metric];
  const draw = (range: [number, number]) => rng.uniform(range[0], range[1]);
  const base = draw(p.base);
  const daily = draw(p.daily) * o.seasonality;
  const weekend = draw(p.weekend) * o.seasonality;
  const trendPerDay = draw(p.trendPerDay) * o.trend;
  const noiseSd = metric === "errors" ? Math.sqrt(base) : p.noise * base;
  return {
    metric,
    base,
    daily,
    weekend,
    trendPerDay,
    noiseRel: p.noise,
    clipMax: p.clipMax,
    scale: Math.max(0.4 * base, 4 * noiseSd),
    ar: 0,
    offset: 0,
    last: 0,
    effect: NONE,
    effectFrom: 0,
    effectTo: -1,
    effectSize: 0,
    nextAt: Infinity,
  };
}

/** The smallest level shift or drift, in the channel's anomaly scales. */
const SHIFT_MIN_SCALES = 0.75;
/** A change may take the curve's lowest point down to this fraction of it, no further. */
const FLOOR_FRACTION = 0.3;
/** A change may take the curve's highest point up to this fraction of the ceiling, no further. */
const CEILING_FRACTION = 0.95;

/**
 * How far a lasting change or a spike may move the series down and up, in its units: the curve's
 * lowest point (the daily trough on a weekend, at the trend reached `elapsedUs` in) shifted by the
 * current offset stays above FLOOR_FRACTION of that trough, and its highest point (the weekday
 * peak) below CEILING_FRACTION of the ceiling. Bounding against the trough, not the base, is what
 * keeps a downward change from clipping at 0 for hours every night (the daily swing of requests
 * takes the trough to 15% of the base).
 */
function shiftRoom(s: Series, elapsedUs: number): { down: number; up: number } {
  const trend = 1 + s.trendPerDay * elapsedUs / DAY_US;
  const low = s.base * (1 - s.daily) * (1 - s.weekend) * trend;
  const high = s.base * (1 + s.daily) * trend;
  return {
    down: Math.max(0, (1 - FLOOR_FRACTION) * low + s.offset),
    up: Math.max(0, CEILING_FRACTION * s.clipMax - high - s.offset),
  };
}

/** The part of a drift's size its ramp has reached at `index`. */
function driftSoFar(s: Series, index: number): number {
  return s.effectSize * (index - s.effectFrom + 1) / (s.effectTo - s.effectFrom + 1);
}

class MetricsFeed implements Feed {
  readonly name = "metrics";
  readonly channels: readonly string[];
  readonly batch: number;
  readonly #options: Resolved;
  readonly #series: Series[];
  readonly #noise: Prng;
  readonly #events: Prng;
  #samples = 0;
  readonly #anomalies: AnomalyWindow[] = [];
  readonly #changes: ChangePoint[] = [];

  constructor(o: Resolved) {
    this.#options = o;
    this.batch = o.batch;
    this.channels = metricChannels(o.series);
    const root = new Prng(o.seed);
    const setup = root.fork("metrics.setup");
    this.#noise = root.fork("metrics.noise");
    this.#events = root.fork("metrics.events");
    this.#series = this.channels.map((_, i) => makeSeries(METRICS[i % METRICS.length]!, setup, o));
    if (o.anomalies) {
      for (const s of this.#series) s.nextAt = o.warmupSamples + this.#gap();
    }
  }

  #gap(): number {
    return Math.round(this.#events.exponential(1 / this.#options.anomalyEverySamples));
  }

  #time(index: number): number {
    return this.#options.startUs + Math.max(0, index) * this.#options.intervalUs;
  }

  next(): SampleFrame[] {
    const o = this.#options;
    const batch = o.batch;
    const t = new Float64Array(batch);
    const daily = new Float64Array(batch);
    const weekend = new Float64Array(batch);
    const days = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      const time = this.#time(this.#samples + b);
      t[b] = time;
      // Lowest at 03:00 UTC, highest at 15:00 UTC.
      const hours = (((time % DAY_US) + DAY_US) % DAY_US) / 3_600e6;
      daily[b] = -cosFast((2 * Math.PI * (hours - 3)) / 24);
      weekend[b] = weekendness(time, WEEKEND_RAMP_US);
      days[b] = (time - o.startUs) / DAY_US;
    }
    const frames: SampleFrame[] = [];
    for (let c = 0; c < this.#series.length; c++) {
      const s = this.#series[c]!;
      const v = new Float64Array(batch);
      for (let b = 0; b < batch; b++) {
        const index = this.#samples + b;
        if (index >= s.nextAt) this.#startAnomaly(c, s, index);
        const level = s.base * (1 + s.daily * daily[b]!) * (1 - s.weekend * weekend[b]!) *
          (1 + s.trendPerDay * days[b]!);
        let x: number;
        if (s.metric === "errors") {
          // A count's changes move its rate, so its noise is that of the level it is at.
          const rate = Math.max(0, level + this.#shiftAt(s, index));
          x = o.noise > 0 ? this.#noise.poisson(rate) : rate;
          if (s.effect === SPIKE) x += s.effectSize;
          else if (s.effect === FLAT) x = s.last;
        } else {
          s.ar = AR_PHI * s.ar + Math.sqrt(1 - AR_PHI * AR_PHI) * this.#noise.normal();
          x = level + o.noise * s.noiseRel * level * s.ar;
          x += s.offset;
          if (s.effect !== NONE) x = this.#applyEffect(s, index, x);
        }
        if (s.metric === "requests" || s.metric === "errors") x = Math.round(x);
        x = Math.min(s.clipMax, Math.max(0, x));
        v[b] = x;
        s.last = x;
      }
      frames.push({
        channel: this.channels[c]!,
        seq0: this.#samples,
        t: c === 0 ? t : t.slice(),
        v,
      });
    }
    this.#samples += batch;
    return frames;
  }

  /** A count channel's lasting shift at `index`: its offset and the part of a drift run so far. */
  #shiftAt(s: Series, index: number): number {
    if (s.effect !== NONE && index > s.effectTo) this.#endEffect(s);
    return s.effect === DRIFT ? s.offset + driftSoFar(s, index) : s.offset;
  }

  /** Ends an effect that has run its course: a drift leaves its full size as the new level.
   *  Returns what it added to the level. */
  #endEffect(s: Series): number {
    const added = s.effect === DRIFT ? s.effectSize : 0;
    s.offset += added;
    s.effect = NONE;
    return added;
  }

  #applyEffect(s: Series, index: number, x: number): number {
    if (index > s.effectTo) return x + this.#endEffect(s);
    switch (s.effect) {
      case SPIKE:
        return x + s.effectSize;
      case DRIFT:
        return x + driftSoFar(s, index);
      default:
        return s.last; // FLAT
    }
  }

  #startAnomaly(c: number, s: Series, index: number): void {
    const o = this.#options;
    const ev = this.#events;
    const kind = o.anomalyKinds[ev.int(o.anomalyKinds.length)]!;
    // Lasting changes head back towards the original level once away from it, so that offsets
    // stay bounded (an error rate that rose, with a new fault, falls with its fix); otherwise
    // errors go up. A change keeps the curve within its bounds (shiftRoom), so no value is clipped
    // and each change's labelled size is the size in the data.
    const lasting = kind === "level_shift" || kind === "drift";
    const room = shiftRoom(s, this.#time(index) - o.startUs);
    const wanted = lasting && Math.abs(s.offset) > 0.5 * s.scale
      ? s.offset < 0
      : s.metric === "errors" || ev.chance(kind === "spike" ? 0.8 : 0.5);
    const least = SHIFT_MIN_SCALES * s.scale;
    const up = wanted
      ? room.up >= least || room.up >= room.down
      : room.down < least && room.up > room.down;
    const signed = (size: number) => up ? Math.min(size, room.up) : -Math.min(size, room.down);
    let last = index;
    let change: number | undefined;
    switch (kind) {
      case "spike": {
        last = index + ev.int(3);
        s.effect = SPIKE;
        s.effectSize = signed(ev.uniform(1.5, 3) * s.scale);
        break;
      }
      case "level_shift": {
        const size = signed(ev.uniform(SHIFT_MIN_SCALES, 1.5) * s.scale);
        s.offset += size;
        change = size;
        break;
      }
      case "drift": {
        last = index + 100 + ev.int(301) - 1;
        s.effect = DRIFT;
        s.effectSize = signed(ev.uniform(SHIFT_MIN_SCALES, 1.5) * s.scale);
        change = s.effectSize;
        break;
      }
      case "flatline": {
        last = index + 30 + ev.int(171) - 1;
        s.effect = FLAT;
        break;
      }
    }
    s.effectFrom = index;
    s.effectTo = kind === "level_shift" ? -1 : last;
    const channel = this.channels[c]!;
    const pad = o.windowSamples;
    this.#anomalies.push({
      channel,
      kind,
      start: this.#time(index - pad),
      end: this.#time(last + pad),
      onset: this.#time(index),
      index,
    });
    if (change !== undefined) {
      this.#changes.push({ channel, kind, index, time: this.#time(index), magnitude: change });
    }
    s.nextAt = last + 1 + 2 * pad + this.#gap();
  }

  truth(): GroundTruth {
    const n = this.#samples;
    return {
      feed: this.name,
      options: { ...this.#options, anomalyKinds: [...this.#options.anomalyKinds] },
      channels: [...this.channels],
      samples: n,
      startUs: n > 0 ? this.#options.startUs : null,
      endUs: n > 0 ? this.#time(n - 1) : null,
      anomalies: this.#anomalies.map((a) => ({ ...a })),
      changePoints: this.#changes.map((c) => ({ ...c })),
      regimes: [],
    };
  }
}
