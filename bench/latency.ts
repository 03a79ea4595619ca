/**
 * `troupe bench latency`: how long a sample takes to become an actor's output. An injector
 * process (`bench/_injector.ts --mode latency`) publishes frames of one sample at `--rate` per
 * second, spread over `--channels` channels, through a nats-server this benchmark starts, to a
 * host in this process running the actor on every channel (file journal, fsync every 100 ms; for
 * `stats`, `every_samples: 1`, so that every frame makes an output). The injector also subscribes
 * to the actor's outputs: a frame's latency runs from just before its publish to the arrival of
 * the first output it caused (matched by the output's `cause`), on the injector's one clock. The
 * baseline is raw nats.js one-way latency at the same rate from the same injector: a publisher and
 * a subscriber in one process, the send time in the payload, messages of the same size. Frames are
 * sent evenly spaced by a sender thread that sleeps between them, and stamped when actually sent;
 * the warm-up (JIT, instance creation) is not measured, but a backlog it leaves is. One injector
 * process sends every phase of the run, troupe's and raw's alike (`_latency_injector.ts`), warmed
 * once by a warm-up of each arm before the first measured phase, so no phase pays its compiles.
 *
 * The host reads its feed from core NATS, as `troupe run` does by default; `--input jetstream`
 * has it read from the feed stream (kept on disk by nats-server, an ordered consumer), as
 * `troupe up`'s host does on one thread (a machine of 2 cores), with the raw baseline unchanged.
 *
 * Beside the latencies, the CPU a measured frame costs the receiver (`cpu_us_per_frame`): the
 * host's main thread against the raw subscriber's thread, from Linux's per-thread counts, and the
 * host's whole process (`cpu_us_per_frame_process`: its collector's and I/O threads too). A wait
 * to be scheduled sets the p99 on a shared machine; the CPU a frame is what the host can change,
 * and it holds steady under a load that moves the percentiles.
 *
 * A round measures troupe and raw in turn, troupe first in even rounds and raw first in odd ones,
 * so each arm follows the other's phase (and the host's after-work) as often.
 *
 * Each round then measures both again under a background feed (`_background_feed.ts`: 200 channels
 * at 1M samples/s by default, frames of 500 samples, into the same host, each channel's instance
 * publishing once a frame): `latency_us_p50_loaded` and `latency_us_p99_loaded`, against raw
 * nats.js under the same background; `--load-rate 0` leaves the loaded row out.
 *
 * With `--trace-stages`, the host also times each stage of every frame's trip through it (NATS
 * delivery, edge, admission, journal, kernel, machine, encoding, publish: stage_trace.ts) and the
 * benchmark prints each stage's p50 and p99 (the median over rounds), as rows without a baseline,
 * and, for each host phase, the gaps in which the host's event loop stood still and why (on the
 * CPU, waiting to run, asleep; and the collections: `_loop_gaps.ts`).
 *
 * With `--timeline DIR`, each phase also leaves its frames in order of sending (send time on the
 * wall clock, latency) and the stalls of its receiving threads (the injector's, the host's), to
 * line the slow frames up with what held the CPUs (`perf record -k CLOCK_MONOTONIC`).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  defaultHostConfig,
  type Host,
  launchHost,
  NatsBus,
  type NatsServer,
  type StageFigures,
  StageTrace,
} from "../actors/runtime/mod.ts";
import { outPattern } from "../protocol/mod.ts";
import { BackgroundFeed } from "./_background_feed.ts";
import { type LoopGapFigures, LoopGaps } from "./_loop_gaps.ts";
import { type BenchContext, type Benchmark, type BenchRow, percentile } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { actorKind } from "./_bench_options.ts";
import { startBenchNats } from "./_bench_nats.ts";
import { LatencyInjector, type PhaseResult } from "./_latency_injector.ts";
import type { LatencyPhase } from "./_latency_phases.ts";
import { tempDir } from "./_temp_dir.ts";
import { stallTimeline } from "./_stall_timeline.ts";
import { human } from "./_human.ts";
import {
  cpuRows,
  latencyRow,
  report,
  reportGaps,
  reportStages,
  roundRatioRow,
  stageRows,
} from "./_latency_rows.ts";

const NAME = "latency";
const FEED = "lat";
const RAW_SUBJECT = "bench.latency.raw";
/** Where the relay of `--relay` republishes the raw messages. */
const RELAYED_SUBJECT = "bench.latency.relayed";

/** Settings of a run. */
interface LatencySettings {
  kind: string;
  /** Where the host reads its feed (HostConfig.input). */
  input: "core" | "jetstream";
  rate: number;
  seconds: number;
  warmupS: number;
  channels: number;
}

/** The background feed of the loaded row. */
interface LoadSettings {
  /** Samples a second; 0: no loaded row. */
  rate: number;
  channels: number;
  batch: number;
}

const OPTIONS = {
  actor: { help: "actor kind, with every_samples 1", arg: "KIND", default: "stats" },
  rate: { help: "frames per second", default: 10_000, number: { min: 1, max: 1_000_000 } },
  seconds: {
    help: "measured seconds per phase, after the warm-up",
    arg: "S",
    default: 3,
    number: { min: 0.1, max: 3600 },
  },
  warmup: {
    help: "warm-up seconds per phase, not measured",
    arg: "S",
    default: 1,
    number: { min: 0, max: 600 },
  },
  channels: {
    help: "channels the frames are spread over",
    default: 64,
    number: { min: 1, max: 100_000, integer: true },
  },
  rounds: {
    help: "host/raw phase pairs, interleaved; each percentile's median is reported",
    default: 3,
    number: { min: 1, max: 50, integer: true },
  },
  "load-rate": {
    help: "samples/s of the background feed of the loaded row; 0: no loaded row",
    default: 1_000_000,
    number: { min: 0, max: 100_000_000 },
  },
  "load-channels": {
    help: "channels of the background feed",
    default: 200,
    number: { min: 1, max: 100_000, integer: true },
  },
  "load-batch": {
    help: "samples per background frame",
    default: 500,
    number: { min: 1, max: 65_536, integer: true },
  },
  input: {
    help: "where the host reads its feed: core NATS, or JetStream (the feed stream kept on disk, " +
      "an ordered consumer), as troupe up's one-thread host does",
    arg: "core|jetstream",
    default: "core",
    oneOf: ["core", "jetstream"] as const,
  },
  relay: {
    help: "also time raw nats.js relayed by a subscriber in the host's process (two hops, as a " +
      "troupe frame takes): rows latency_us_p50_relayed, latency_us_p99_relayed",
    flag: true,
  },
  "trace-stages": {
    help: "also time each stage of a frame's trip through the host (p50/p99 per stage)",
    flag: true,
  },
  timeline: {
    help: "write each phase's frames (send time on the wall clock, latency) and the stalls of " +
      "its receiving threads (event-loop gaps, collections) to this folder",
    arg: "DIR",
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary: "publish → actor output latency of one-sample frames at a fixed rate (p50/p99/p999), " +
    "against raw nats.js one-way latency at the same rate",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    const { rate, seconds, warmup: warmupS, channels, rounds } = o;
    const settings: LatencySettings = {
      kind: actorKind(o.actor).kind,
      input: o.input,
      rate,
      seconds,
      warmupS,
      channels,
    };
    const load: LoadSettings = {
      rate: o["load-rate"],
      channels: o["load-channels"],
      batch: o["load-batch"],
    };
    const trace = o["trace-stages"]
      ? new StageTrace({ channels: (c) => c.charCodeAt(0) === 108 /* l: not the background's */ })
      : undefined;
    // JetStream's store, for a host reading its feed from the stream.
    const store = settings.input === "jetstream" ? tempDir("troupe-bench-latency-js-") : undefined;
    const nats = await startBenchNats(NAME, store?.path).catch((err) => {
      store?.remove();
      throw err;
    });
    let m: Measured;
    try {
      const host = await startHost(nats, settings, ctx, trace);
      try {
        const parts = {
          ...{ nats, settings, load, rounds, host: host.host, trace },
          ...{ relay: o.relay, timeline: o.timeline },
        };
        m = await measureRounds(parts, ctx);
        if (settings.input === "jetstream") {
          // Core NATS gives no positions: an instance's source position is the stream's.
          const srcPos = host.host.instance(settings.kind, "l0")?.srcPos ?? 0;
          ctx.log(`${NAME}: the host's channel l0 read up to feed stream sequence ${srcPos}`);
        }
      } finally {
        await host.stop();
      }
    } finally {
      await nats.stop();
      store?.remove();
    }
    const { troupe, raw } = m;
    const p99 = troupe.map((t, i) =>
      percentile(t.latenciesUs, 99) / percentile(raw[i]!.latenciesUs, 99)
    );
    ctx.log(`${NAME}: p99 ratio by round: ${p99.map((x) => x.toFixed(2)).join(", ")}`);
    const rows = [50, 99, 99.9].map((p) => latencyRow(p, "", troupe, raw));
    rows.push(roundRatioRow(p99));
    if (m.troupeLoaded.length > 0) {
      for (const p of [50, 99]) rows.push(latencyRow(p, "_loaded", m.troupeLoaded, m.rawLoaded));
    }
    if (m.relayed.length > 0) {
      for (const p of [50, 99]) rows.push(latencyRow(p, "_relayed", troupe, m.relayed));
    }
    return [...rows, ...cpuRows(troupe, raw), ...stageRows(m.stages)];
  },
};

/** What the rounds measured: each phase's latencies, and the stages when traced. */
interface Measured {
  troupe: PhaseResult[];
  raw: PhaseResult[];
  troupeLoaded: PhaseResult[];
  rawLoaded: PhaseResult[];
  /** Raw nats.js relayed by a subscriber in the host's process (`--relay`). */
  relayed: PhaseResult[];
  stages: StageFigures[][];
}

/** What `measureRounds` works with. */
interface RoundsParts {
  nats: NatsServer;
  settings: LatencySettings;
  load: LoadSettings;
  rounds: number;
  host: Host;
  trace: StageTrace | undefined;
  /** Also measure raw nats.js relayed through this process. */
  relay: boolean;
  /** Where each phase's timeline goes (`--timeline`). */
  timeline: string | undefined;
}

/** Which frames a phase sends and which answers it times: troupe's, raw, or raw relayed. */
type Arm = Pick<LatencyPhase, "answers" | "raw" | "raw_answers">;

/** Raw nats.js: the injector times its own messages. */
const RAW: Arm = { answers: undefined, raw: RAW_SUBJECT, raw_answers: undefined };

/** Troupe: frames to the host, each timed to the first output it caused. */
function hostArm(s: LatencySettings): Arm {
  return { answers: outPattern(s.kind), raw: undefined, raw_answers: undefined };
}

/** Phase `arm` as the injector is told it: `seconds` measured after the warm-up. */
function phaseOf(s: LatencySettings, arm: Arm, seconds: number, timeline?: string): LatencyPhase {
  return { ...arm, rate: s.rate, seconds, warmup: s.warmupS, timeline };
}

/**
 * Host and raw phases, alternated so that both are measured under the same machine load; then,
 * with a background feed, the same two under it. One injector sends every phase, warmed first by
 * a warm-up of each arm (troupe's frames, raw messages) that is not measured.
 */
async function measureRounds(p: RoundsParts, ctx: BenchContext): Promise<Measured> {
  const { nats, settings } = p;
  const m: Measured = {
    troupe: [],
    raw: [],
    troupeLoaded: [],
    rawLoaded: [],
    relayed: [],
    stages: [],
  };
  const target = { nats, feed: FEED, channels: settings.channels };
  const injector = await LatencyInjector.start(target, ctx.log);
  let feed: BackgroundFeed | undefined;
  try {
    feed = p.load.rate > 0 ? await startFeed(p, ctx) : undefined;
    if (settings.warmupS > 0) {
      // A warm-up and as long measured (not kept), so that the measuring code is compiled too.
      const warm = (arm: Arm) => phaseOf(settings, arm, settings.warmupS);
      for (const arm of [hostArm(settings), RAW]) await injector.run(warm(arm));
      p.trace?.clear();
    }
    const phase = phaseRunner(p, injector);
    for (let r = 0; r < p.rounds; r++) await measureRound(r, p, { phase, feed, m, injector }, ctx);
    ctx.log(`${NAME}: one injector (pid ${injector.pid}) sent all ${injector.phases} phases`);
  } finally {
    await feed?.stop();
    await injector.stop();
  }
  return m;
}

/** The background feed of the loaded row, off until a loaded phase. */
function startFeed(p: RoundsParts, ctx: BenchContext): Promise<BackgroundFeed> {
  const { settings } = p;
  return BackgroundFeed.start({
    natsUrl: p.nats.url,
    host: p.host,
    kind: settings.kind,
    channels: p.load.channels,
    batch: p.load.batch,
    rate: p.load.rate,
    window: 256,
    // One publication a frame, not one a sample.
    configure: settings.kind === "stats" ? { every_samples: p.load.batch } : undefined,
    log: ctx.log,
  });
}

/** Runs a phase of `arm`; with `--timeline`, writes it as `<name>.*.json`. */
type PhaseRunner = (
  name: string,
  arm: Arm,
  t: StageTrace | undefined,
) => Promise<[PhaseResult, LoopGapFigures | undefined]>;

function phaseRunner(p: RoundsParts, injector: LatencyInjector): PhaseRunner {
  const { settings } = p;
  return (name, arm, t) => {
    const file = p.timeline === undefined ? undefined : join(p.timeline, name);
    const phase = phaseOf(settings, arm, settings.seconds, file && `${file}.frames.json`);
    const watch = { trace: t, warmupS: settings.warmupS, hostFile: file && `${file}.host.json` };
    return traced(() => injector.run(phase), watch);
  };
}

/** What a round works with besides the run's parts. */
interface RoundTools {
  phase: PhaseRunner;
  feed: BackgroundFeed | undefined;
  m: Measured;
  injector: LatencyInjector;
}

/**
 * Round `r`: troupe and raw (and relayed), then both under the background, into `m`. Even rounds
 * run troupe's phase first, odd rounds raw's: a phase that follows one in which the host worked
 * meets its collector's after-work (lat38 counted 4 full collections of the idle host in each
 * raw phase that followed troupe's), so each arm follows the other as often.
 */
async function measureRound(r: number, p: RoundsParts, o: RoundTools, ctx: BenchContext) {
  const order = r % 2 === 0 ? (["troupe", "raw"] as const) : (["raw", "troupe"] as const);
  for (const what of order) {
    if (what === "troupe") await troupePhase(r, p, o, ctx);
    else await rawPhase(r, p, o, ctx);
  }
  const { settings, trace } = p;
  const { phase, feed, m } = o;
  if (!feed) return;
  const loaded = {
    troupe: [hostArm(settings), m.troupeLoaded],
    raw: [RAW, m.rawLoaded],
  } as const;
  for (const what of order) {
    const [arm, into] = loaded[what];
    feed.on();
    const [l, gaps] = await phase(`r${r + 1}-${what}-loaded`, arm, trace);
    const bg = await feed.off();
    if (trace && what === "troupe") {
      reportStages(ctx, `under the background, round ${r + 1}`, trace.frames, trace.figures());
      reportGaps(ctx, `under the background, round ${r + 1}`, gaps);
    }
    const who = what === "raw" ? "raw nats.js" : what;
    report(ctx, `${who} under a background of ${human(bg)} samples/s, round ${r + 1}`, l);
    into.push(l);
  }
}

/** Round `r`'s troupe phase, into `m` (with its stages when traced). */
async function troupePhase(r: number, p: RoundsParts, o: RoundTools, ctx: BenchContext) {
  const { settings, trace } = p;
  const [t, gaps] = await o.phase(`r${r + 1}-troupe`, hostArm(settings), trace);
  if (trace) {
    o.m.stages.push(trace.figures());
    reportStages(ctx, `round ${r + 1}`, trace.frames, o.m.stages[r]!);
    reportGaps(ctx, `round ${r + 1}`, gaps);
  }
  if (t.latenciesUs.length === 0) {
    throw new Error(`${NAME}: no frame got an answer from the ${settings.kind} actor`);
  }
  report(ctx, `troupe (${hostName(settings)}), round ${r + 1}`, t);
  o.m.troupe.push(t);
}

/** Round `r`'s raw phase (and the relayed one, when asked), into `m`. */
async function rawPhase(r: number, p: RoundsParts, o: RoundTools, ctx: BenchContext) {
  const [w] = await o.phase(`r${r + 1}-raw`, RAW, undefined);
  report(ctx, `raw nats.js, round ${r + 1}`, w);
  o.m.raw.push(w);
  if (p.relay) {
    const relayed = await measureRelayed(p.nats, p.settings, o.injector);
    report(ctx, `raw nats.js relayed by the host's process, round ${r + 1}`, relayed);
    o.m.relayed.push(relayed);
  }
}

/**
 * A raw phase whose messages a subscriber in this process (the host's, idle meanwhile) publishes
 * again on another subject, where the injector times them: injector, nats-server, this process,
 * nats-server, injector, the hops of a troupe frame and its output, with nothing done between.
 */
async function measureRelayed(
  nats: NatsServer,
  s: LatencySettings,
  injector: LatencyInjector,
): Promise<PhaseResult> {
  const bus = await NatsBus.connect(nats.url, { name: "troupe-bench-latency-relay" });
  try {
    bus.subscribe(RAW_SUBJECT, (msg) => bus.publish(RELAYED_SUBJECT, msg.data));
    await bus.flush();
    return await injector.run(phaseOf(s, { ...RAW, raw_answers: RELAYED_SUBJECT }, s.seconds));
  } finally {
    await bus.close();
  }
}

/** How `traced` watches a phase. */
interface PhaseWatch {
  /** The stage trace, cleared at the end of the warm-up. */
  trace: StageTrace | undefined;
  warmupS: number;
  /** Where to write the host's stalls (`--timeline`). */
  hostFile: string | undefined;
}

/**
 * Runs a phase; with a trace, the warm-up's frames are not traced (nor timed), and with a trace
 * or a timeline the event loop's gaps after the warm-up are watched (see _loop_gaps.ts).
 */
async function traced<T>(
  phase: () => Promise<T>,
  w: PhaseWatch,
): Promise<[T, LoopGapFigures | undefined]> {
  const { trace, hostFile } = w;
  const gaps = (trace || hostFile) ? LoopGaps.start() : undefined;
  const clear = gaps && setTimeout(() => {
    trace?.clear();
    gaps.reset();
  }, w.warmupS * 1000);
  try {
    const result = await phase();
    const figures = gaps?.stop();
    if (gaps && hostFile) writeFileSync(hostFile, JSON.stringify(stallTimeline(gaps)));
    return [result, figures];
  } catch (err) {
    gaps?.stop();
    throw err;
  } finally {
    clearTimeout(clear);
  }
}

/** The host's kind, and where it reads its feed when not from core NATS. */
function hostName(s: LatencySettings): string {
  return s.input === "jetstream" ? `${s.kind}, its feed from JetStream` : s.kind;
}

/** Starts a host running the actor on every channel (file journal, fsync every 100 ms). */
async function startHost(
  nats: NatsServer,
  s: LatencySettings,
  ctx: BenchContext,
  stageTrace: StageTrace | undefined,
): Promise<{ host: Host; stop(): Promise<void> }> {
  const dir = tempDir("troupe-bench-latency-");
  const config = defaultHostConfig();
  config.host_id = "bench-host";
  config.nats = nats.url;
  config.data_dir = dir.path;
  config.journal = { kind: "file", fsync: "interval", fsync_interval_ms: 100 };
  config.input = s.input;
  config.snapshots = { store: "file", every_inputs: 1000, every_ms: 5000 };
  config.actors = { [s.kind]: s.kind === "stats" ? { every_samples: 1 } : {} };
  const launched = await launchHost(config, { [s.kind]: actorKind(s.kind) }, {
    log: (m) => ctx.log(`host: ${m}`),
    ...(stageTrace ? { stageTrace } : {}),
  });
  return {
    host: launched.host,
    async stop() {
      await launched.close();
      dir.remove();
    },
  };
}
