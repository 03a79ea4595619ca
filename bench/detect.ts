/**
 * `troupe bench detect`: what the detectors find on troupe's own synthetic feeds, scored against
 * the ground truth those feeds carry (`troupe inject --labels`). The market feed (ticks 1 s apart,
 * prices only, the feed's default rates) and the metrics feed are generated from a seed and run,
 * frame by frame, through the anomaly, collapse and coherence actors exactly as a host applies them
 * (ActorInstance), without a bus. The market runs with the settings `troupe up` runs it with
 * (sim/demo.ts: a wandering level for collapse on prices, short coherence bars), the metrics with
 * every kind's defaults but collapse's, which is told what a user would tell it of service metrics
 * (METRICS_COLLAPSE, the collapse actor's metricsCollapseConfig: a daily season, serially
 * correlated noise; `troupe up --feed metrics` runs the same); `--config` adds fields over both.
 * The events are then scored (bench/_detect_score.ts):
 * - `anomaly_f1`: anomaly events against the labelled anomaly windows, over both feeds, after
 *   NAB's probationary period (each channel's first min(15%, 750) samples are not scored);
 * - `collapse_f1`: collapse events against the labelled change points (market crashes, metrics
 *   level shifts and drifts), and `collapse_false_alarms_per_channel_hour`: collapse events near
 *   no label, per channel-hour of data (the worse of the two feeds);
 * - `coherence_regime_accuracy`: the share of the market's time in which the coherence state says
 *   `coherent` exactly when the market is `stressed` (baseline: always `normal`).
 * Delays are in samples from the labelled onset to the event.
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { AnomalyConfig } from "../actors/anomaly/mod.ts";
import { ActorInstance, type AnyActorDefinition } from "../actors/runtime/mod.ts";
import { type CollapseConfig, metricsCollapseConfig } from "../actors/collapse/mod.ts";
import { ANOMALY_TYPE, anomalyOf, columnsFrameOf, decodeEnvelope } from "../protocol/mod.ts";
import { encodeFrame, feedSubject } from "../protocol/mod.ts";
import { createMarketFeed, createMetricsFeed, demoActorConfigs, type Feed } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, percentile, row } from "./_bench.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import {
  type DetectionScore,
  type Finding,
  mergeScores,
  regimeAccuracy,
  scoreAnomalies,
  scoreChanges,
} from "./_detect_score.ts";
import {
  describeKinds,
  falsePerKiloByKind,
  type KindConfigs,
  KINDS,
  type KindTails,
  type ScoreSeries,
  tailsOf,
} from "./_detect_by_kind.ts";
import { probationLength } from "./_nab_scorer.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { addTail, describeTails, emptyTail } from "./_score_tails.ts";
import {
  addExplanation,
  describeExplanation,
  emptyExplanation,
  explainFeeds,
  type Explanation,
  explanationRows,
} from "./_detect_explain.ts";
import { ViewRecorder } from "./_view_recorder.ts";
import { describeSummed, parseSeeds } from "./_detect_seeds.ts";

const NAME = "detect";
/** Defaults: samples per channel of each feed, and channels. */
const MARKET_SAMPLES = 100_000;
const METRICS_SAMPLES = 40_000;
const CHANNELS = 10;
const FRAME_SAMPLES = 100;
const MARKET_INTERVAL_US = 1_000_000;

/** The collapse configuration of the metrics feed: the actor's settings for service metrics. */
export const METRICS_COLLAPSE: Readonly<Partial<CollapseConfig>> = metricsCollapseConfig;

/**
 * Runs `samples` per channel of `feed` through the actors; returns every finding, in order. With
 * `scores`, each channel's published anomaly scores are appended to it as well; with `views`, a
 * kernel beside each anomaly actor records the view behind each score (bench/_view_recorder.ts).
 */
export function runFeed(
  feed: Feed,
  options: {
    samples: number;
    configs?: KindConfigs;
    kinds?: readonly string[];
    scores?: Map<string, ScoreSeries>;
    views?: ViewRecorder | undefined;
  },
): Finding[] {
  const defs = (options.kinds ?? KINDS).map((k) => {
    const def = ACTOR_KINDS[k] as AnyActorDefinition;
    const raw = options.configs?.[k as (typeof KINDS)[number]];
    const config = raw === undefined
      ? def.defaultConfig
      : def.parseConfig(raw, def.defaultConfig, k);
    return { def, config, instances: new Map<string, ActorInstance>() };
  });
  const findings: Finding[] = [];
  let pos = 0;
  for (let seen = 0; seen < options.samples;) {
    const frames = feed.next();
    if (frames.length === 0) break;
    for (const frame of frames) {
      pos++;
      const payload = encodeFrame(frame, { id: `d-${pos}`, src: NAME });
      const record = {
        kind: "frame" as const,
        srcPos: pos,
        subject: feedSubject(feed.name, frame.channel),
        payload,
      };
      for (const { def, config, instances } of defs) {
        const views = def.kind === "anomaly" ? options.views : undefined;
        for (const key of def.route(frame.channel, config)) {
          let inst = instances.get(key);
          if (!inst) {
            inst = ActorInstance.create(def, key, config);
            instances.set(key, inst);
          }
          views?.step(key, frame, config as AnomalyConfig);
          for (const o of inst.apply(record, pos)) {
            const env = decodeEnvelope(o.data);
            if (env.type === "columns") {
              if (options.scores && def.kind === "anomaly") keepScores(options.scores, key, env);
              views?.check(key, columnsFrameOf(env));
              continue;
            }
            findings.push({
              kind: def.kind,
              key,
              ts: env.ts,
              body: env.body,
              ...(env.type === ANOMALY_TYPE && anomalyOf(env).restated === true &&
                { restated: true }),
            });
          }
        }
      }
    }
    seen += frames[0]!.t.length;
  }
  for (const { instances } of defs) for (const inst of instances.values()) inst.stop();
  return findings;
}

function keepScores(
  scores: Map<string, ScoreSeries>,
  key: string,
  env: ReturnType<typeof decodeEnvelope>,
): void {
  const frame = columnsFrameOf(env);
  const series = scores.get(key) ?? { t: [], score: [] };
  scores.set(key, series);
  const score = frame.columns.score!;
  for (let i = 0; i < frame.t.length; i++) {
    series.t.push(frame.t[i]!);
    series.score.push(score[i]!);
  }
}

/** What one run of the benchmark measured. */
export interface DetectReport {
  anomaly: DetectionScore;
  collapse: DetectionScore;
  /** The same per feed. */
  feeds: Record<"market" | "metrics", { anomaly: DetectionScore; collapse: DetectionScore }>;
  /** False collapse alarms per channel-hour, per feed. */
  falseAlarmsPerChannelHour: { market: number; metrics: number };
  /**
   * False anomaly events per 1,000 samples scored after the probation, per kind of channel
   * (`price` for the market's, the metric for the metrics feed's: cpu, memory, requests, errors,
   * latency): a threshold whose score means the same on every kind (a rarity per sample) gives
   * them about the same rate, whatever the sampling interval.
   */
  anomalyFalsePerKiloSampleByKind: Record<string, number>;
  /**
   * With `tails`: the published anomaly score's tail per kind of channel (bench/_score_tails.ts),
   * also at equal age when the feeds differ in length, and the bits of a full score, by which a
   * threshold promises its rate.
   */
  anomalyTails?: KindTails;
  /** With `explain`: per feed, the anomaly kernel's views behind its events and labels. */
  anomalyExplained?: Record<"market" | "metrics", Explanation>;
  coherence: { accuracy: number; baseline: number };
}

/** How `runDetect` runs the feeds, and what it measures beside the scores. */
export interface DetectOptions {
  marketSamples?: number;
  metricsSamples?: number;
  configs?: KindConfigs;
  /** Also measure the anomaly score's tail per kind of channel. */
  tails?: boolean;
  /** Also lay the anomaly events and labels to the kernel's views (bench/_detect_explain.ts). */
  explain?: boolean;
}

/** Runs both feeds from `seed` and scores them. */
export function runDetect(seed: number, options: DetectOptions = {}): DetectReport {
  const over = options.configs ?? {};
  const demo = demoActorConfigs(MARKET_INTERVAL_US);
  const marketConfigs: KindConfigs = {};
  for (const k of KINDS) {
    marketConfigs[k] = { ...demo[k], ...(over[k] as Record<string, unknown> | undefined) };
  }
  const market = createMarketFeed({
    intervalUs: MARKET_INTERVAL_US,
    symbols: CHANNELS,
    seed,
    volume: false,
    batch: FRAME_SAMPLES,
  });
  const metrics = createMetricsFeed({ series: CHANNELS, seed, batch: FRAME_SAMPLES });
  const scores: Parameters<typeof tailsOf>[1] | undefined = options.tails
    ? { market: new Map(), metrics: new Map() }
    : undefined;
  const views = options.explain
    ? { market: new ViewRecorder(), metrics: new ViewRecorder() }
    : null;
  const mk = runFeed(market, {
    samples: options.marketSamples ?? MARKET_SAMPLES,
    configs: marketConfigs,
    ...(scores ? { scores: scores.market } : {}),
    views: views?.market,
  });
  const mt = runFeed(metrics, {
    samples: options.metricsSamples ?? METRICS_SAMPLES,
    configs: {
      ...over,
      collapse: { ...METRICS_COLLAPSE, ...(over.collapse as Record<string, unknown> | undefined) },
    },
    kinds: ["anomaly", "collapse"],
    ...(scores ? { scores: scores.metrics } : {}),
    views: views?.metrics,
  });
  const mTruth = market.truth(), tTruth = metrics.truth();
  const mInterval = Number(mTruth.options.intervalUs);
  const tInterval = Number(tTruth.options.intervalUs);
  const mOpt = { channels: mTruth.channels, intervalUs: mInterval };
  const tOpt = { channels: tTruth.channels, intervalUs: tInterval };
  const mChanges = scoreChanges(mTruth, mk, mOpt), tChanges = scoreChanges(tTruth, mt, tOpt);
  // NAB's probationary period: a detector's first min(15%, 750) samples are its learning time.
  const mAnomalies = scoreAnomalies(mTruth, mk, {
    ...mOpt,
    probationSamples: probationLength(mTruth.samples),
  });
  const tAnomalies = scoreAnomalies(tTruth, mt, {
    ...tOpt,
    probationSamples: probationLength(tTruth.samples),
  });
  const perHour = (fp: number, truth: typeof mTruth, interval: number) =>
    fp / (truth.channels.length * (truth.samples * interval) / 3.6e9);
  const byKind = {
    ...falsePerKiloByKind(mAnomalies, mTruth, true),
    ...falsePerKiloByKind(tAnomalies, tTruth, false),
  };
  return {
    ...(scores ? { anomalyTails: tailsOf([mTruth, tTruth], scores, over) } : {}),
    ...(views && { anomalyExplained: explainFeeds(views, [[mTruth, mk], [tTruth, mt]]) }),
    anomaly: mergeScores(mAnomalies, tAnomalies),
    collapse: mergeScores(mChanges, tChanges),
    feeds: {
      market: { anomaly: mAnomalies, collapse: mChanges },
      metrics: { anomaly: tAnomalies, collapse: tChanges },
    },
    falseAlarmsPerChannelHour: {
      market: perHour(mChanges.falsePositives, mTruth, mInterval),
      metrics: perHour(tChanges.falsePositives, tTruth, tInterval),
    },
    anomalyFalsePerKiloSampleByKind: byKind,
    coherence: regimeAccuracy(mTruth, mk, "all"),
  };
}

function describe(name: string, s: DetectionScore): string {
  const counts = `${s.found}/${s.labels} labels found, ${s.events} events, ` +
    `${s.falsePositives} false, ${s.repeats} repeats` +
    (s.elsewhere ? `, ${s.elsewhere} at other labels` : "");
  const found = Object.entries(s.byKind).map(([k, c]) => `${k} ${c.found}/${c.labels}`).join(", ");
  return `${name}: F1 ${s.f1.toFixed(3)} (precision ${s.precision.toFixed(3)}, recall ${
    s.recall.toFixed(3)
  }: ${counts}); delay p50 ${percentile(s.delays, 50)}, p90 ${
    percentile(s.delays, 90)
  } samples; found ${found}`;
}

function readConfigs(raw: string | undefined): KindConfigs {
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new BenchOptionError(`Option --config must be a JSON object of kinds, got "${raw}"`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BenchOptionError(`Option --config must be a JSON object of kinds, got ${raw}`);
  }
  for (const k of Object.keys(parsed)) {
    if (!(KINDS as readonly string[]).includes(k)) {
      throw new BenchOptionError(
        `Option --config: unknown kind "${k}" (kinds: ${KINDS.join(", ")})`,
      );
    }
  }
  return parsed as KindConfigs;
}

/** The four figures of a report, as its rows give them. */
interface Figures {
  anomaly_f1: number;
  collapse_f1: number;
  collapse_false_alarms_per_channel_hour: number;
  coherence_regime_accuracy: number;
}

function figuresOf(report: DetectReport): Figures {
  const fa = report.falseAlarmsPerChannelHour;
  return {
    anomaly_f1: report.anomaly.f1,
    collapse_f1: report.collapse.f1,
    collapse_false_alarms_per_channel_hour: Math.max(fa.market, fa.metrics),
    coherence_regime_accuracy: report.coherence.accuracy,
  };
}

function rows(report: DetectReport, ctx: BenchContext): BenchRow[] {
  const fa = report.falseAlarmsPerChannelHour;
  for (const feed of ["market", "metrics"] as const) {
    ctx.log(describe(`${feed} anomaly`, report.feeds[feed].anomaly));
    ctx.log(describe(`${feed} collapse`, report.feeds[feed].collapse));
  }
  ctx.log(describe("anomaly", report.anomaly));
  ctx.log(describe("collapse", report.collapse));
  ctx.log(
    `collapse false alarms per channel-hour: market ${fa.market.toFixed(3)}, metrics ${
      fa.metrics.toFixed(3)
    }`,
  );
  ctx.log(
    `anomaly false events per 1,000 samples by kind: ${
      describeKinds(report.anomalyFalsePerKiloSampleByKind)
    }`,
  );
  if (report.anomalyTails) {
    for (const line of describeKindTails(report.anomalyTails)) ctx.log(line);
  }
  ctx.log(
    `coherence: regime accuracy ${report.coherence.accuracy.toFixed(3)} (always normal: ${
      report.coherence.baseline.toFixed(3)
    })`,
  );
  return [...figureRows(figuresOf(report), report.coherence.baseline), ...explained(report, ctx)];
}

/** With `--explain`: logs each feed's attribution (`over`: of what, after the feed); its rows. */
function explained(
  report: { anomalyExplained?: DetectReport["anomalyExplained"] },
  ctx: BenchContext,
  over = "",
): BenchRow[] {
  const e = report.anomalyExplained;
  if (!e) return [];
  for (const feed of ["market", "metrics"] as const) {
    for (const line of describeExplanation(`${feed} anomaly${over}`, e[feed])) ctx.log(line);
  }
  return [...explanationRows("market", e.market), ...explanationRows("metrics", e.metrics)];
}

function figureRows(f: Figures, coherenceBaseline: number): BenchRow[] {
  const one = (metric: keyof Figures, unit: string, better: "higher" | "lower") =>
    row({ bench: NAME, metric, unit, troupe: f[metric], baseline: null, better });
  return [
    one("anomaly_f1", "F1", "higher"),
    one("collapse_f1", "F1", "higher"),
    one("collapse_false_alarms_per_channel_hour", "count", "lower"),
    row({
      bench: NAME,
      metric: "coherence_regime_accuracy",
      unit: "fraction",
      troupe: f.coherence_regime_accuracy,
      baseline: coherenceBaseline,
      better: "higher",
    }),
  ];
}

/** The lines of `--tails`: the tail per kind, then the same at equal age when measured. */
function describeKindTails(tails: KindTails): string[] {
  const fullBits = tails.fullScoreBits;
  const lines = describeTails(tails.byKind, { fullBits });
  const equal = tails.byKindEqualAge, firstSamples = tails.equalAgeSamples;
  if (equal && firstSamples !== undefined) {
    lines.push(...describeTails(equal, { fullBits, firstSamples }));
  }
  return lines;
}

/** Runs every seed; logs a line per seed and each figure's mean and range; rows: the worst seed. */
function seedsRows(
  seeds: readonly number[],
  options: DetectOptions,
  ctx: BenchContext,
): BenchRow[] {
  const all: Figures[] = [];
  const baselines: number[] = [];
  const kinds: Record<string, number> = {};
  const scores = { market: [] as DetectionScore[], metrics: [] as DetectionScore[] };
  const tails: KindTails = { byKind: {}, fullScoreBits: 0 };
  const explainedSum = { market: emptyExplanation(), metrics: emptyExplanation() };
  for (const [i, seed] of seeds.entries()) {
    const report = runDetect(seed, options);
    for (const feed of ["market", "metrics"] as const) {
      const e = report.anomalyExplained?.[feed];
      if (e) addExplanation(explainedSum[feed], e, seed);
    }
    const f = figuresOf(report);
    for (const [k, t] of Object.entries(report.anomalyTails?.byKind ?? {})) {
      addTail(tails.byKind[k] ??= emptyTail(), t);
    }
    tails.fullScoreBits = report.anomalyTails?.fullScoreBits ?? 0;
    for (const [k, t] of Object.entries(report.anomalyTails?.byKindEqualAge ?? {})) {
      addTail((tails.byKindEqualAge ??= {})[k] ??= emptyTail(), t);
    }
    const equalAge = report.anomalyTails?.equalAgeSamples;
    if (equalAge !== undefined) tails.equalAgeSamples = equalAge;
    all.push(f);
    baselines.push(report.coherence.baseline);
    for (const feed of ["market", "metrics"] as const) {
      scores[feed].push(report.feeds[feed].anomaly);
    }
    for (const [k, r] of Object.entries(report.anomalyFalsePerKiloSampleByKind)) {
      kinds[k] = (kinds[k] ?? 0) + r / seeds.length;
    }
    ctx.log(
      `seed ${seed} (${i + 1}/${seeds.length}): anomaly_f1 ${
        f.anomaly_f1.toFixed(3)
      }, collapse_f1 ${f.collapse_f1.toFixed(3)}, false collapses per channel-hour ${
        f.collapse_false_alarms_per_channel_hour.toFixed(3)
      }, coherence ${f.coherence_regime_accuracy.toFixed(3)}`,
    );
  }
  const worst: Figures = {
    anomaly_f1: Math.min(...all.map((f) => f.anomaly_f1)),
    collapse_f1: Math.min(...all.map((f) => f.collapse_f1)),
    collapse_false_alarms_per_channel_hour: Math.max(
      ...all.map((f) => f.collapse_false_alarms_per_channel_hour),
    ),
    coherence_regime_accuracy: Math.min(...all.map((f) => f.coherence_regime_accuracy)),
  };
  for (const key of Object.keys(worst) as (keyof Figures)[]) {
    const xs = all.map((f) => f[key]);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    ctx.log(
      `${key} over ${seeds.length} seeds: mean ${mean.toFixed(3)}, range ${
        Math.min(...xs).toFixed(3)
      }-${Math.max(...xs).toFixed(3)}`,
    );
  }
  ctx.log(
    `anomaly false events per 1,000 samples by kind, mean over ${seeds.length} seeds: ${
      describeKinds(kinds)
    }`,
  );
  for (const feed of ["market", "metrics"] as const) {
    ctx.log(describeSummed(`${feed} anomaly over ${seeds.length} seeds, summed`, scores[feed]));
  }
  if (options?.tails) { for (const line of describeKindTails(tails)) ctx.log(line); }
  // Coherence's baseline is that of the seed whose accuracy is the worst, so the ratio is one
  // seed's.
  const worstCoherence = all.findIndex((f) =>
    f.coherence_regime_accuracy === worst.coherence_regime_accuracy
  );
  const explanation = options.explain ? { anomalyExplained: explainedSum } : {};
  const explainRows = explained(explanation, ctx, ` over ${seeds.length} seeds`);
  ctx.log(`rows: the worst seed's figure of each${options.explain ? ", and --explain's" : ""}`);
  return [...figureRows(worst, baselines[worstCoherence]!), ...explainRows];
}

/**
 * The seed when neither --seed nor --seeds is given (not a table default: the two exclude each
 * other).
 */
const SEED_DEFAULT = 1;

const OPTIONS = {
  seed: {
    help: "seed of both feeds",
    // Not a default: --seed and --seeds exclude each other, so an absent --seed stays undefined.
    defaultText: String(SEED_DEFAULT),
    arg: "S",
    number: { min: 0, integer: true },
  },
  seeds: {
    help: "several seeds, e.g. 1-8 or 1,3,5: a line per seed, then each figure's mean and range, " +
      "each feed's anomaly labels found by kind, false events and repeats summed over the seeds, " +
      "and rows " +
      "of the worst seed's figures (the bars hold on every seed)",
    arg: "LIST",
  },
  "market-samples": {
    help: "samples per market channel, 1 s apart",
    default: MARKET_SAMPLES,
    number: { min: 1, integer: true },
  },
  "metrics-samples": {
    help: "samples per metrics channel, 60 s apart",
    default: METRICS_SAMPLES,
    number: { min: 1, integer: true },
  },
  tails: {
    help: "also log the anomaly score's tail by kind of channel: per 1,000 samples outside the " +
      "labelled windows, how many score at or above 0.2 to 1 (over every seed with --seeds); " +
      "when the feeds differ in length, also over each channel's first N samples, N the shorter " +
      "feed's length (every kind at the same age)",
    flag: true,
  },
  explain: {
    help: "also log which of the anomaly kernel's views raised what the scores count, per feed: " +
      "false events by the view of the opening sample (and how many lie inside the forecast's " +
      "3 sds), labels found by kind and the view of the first opening inside, labels missed by " +
      "kind with the largest score in the window and its view (summed over every seed with " +
      "--seeds); with --json, a row of each (anomaly_explain.<feed>....)",
    flag: true,
  },
  config: {
    help: `per-kind configuration over each kind's own, e.g. '{"collapse":{"hazard":0.0001}}'`,
    arg: "JSON",
  },
} satisfies OptionTable;

/** The benchmark. */
export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "detectors on the labelled market and metrics feeds: anomaly/collapse F1, false collapses " +
    "per channel-hour, coherence regime accuracy",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    try {
      const o = readOptions(args, OPTIONS);
      if (o.seed !== undefined && o.seeds !== undefined) {
        throw new BenchOptionError("Options --seed and --seeds cannot be given together");
      }
      const options = {
        marketSamples: o["market-samples"],
        metricsSamples: o["metrics-samples"],
        configs: readConfigs(o.config),
        tails: o.tails,
        explain: o.explain,
      };
      if (o.seeds !== undefined) {
        return Promise.resolve(seedsRows(parseSeeds(o.seeds), options, ctx));
      }
      return Promise.resolve(rows(runDetect(o.seed ?? SEED_DEFAULT, options), ctx));
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
