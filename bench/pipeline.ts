/**
 * `troupe bench pipeline`: end-to-end throughput of the cluster. An injector process
 * (`bench/_injector.ts`) publishes frames of `--batch` samples over `--channels` channels through
 * a nats-server this benchmark starts, to a host in a process of its own (as `troupe run` runs
 * one: `bench/_pipeline_host.ts`, with the `troupe` command's V8 flags) running one actor kind on
 * every channel, with a file journal (fsync every 100 ms) and file snapshots in a temporary
 * directory. The figure is the samples the host applies per second in steady state; the baseline
 * is the same injector feeding a plain nats.js subscriber (in this process) that only counts
 * frames.
 *
 * The injector, the host and the subscriber start once; the injector is then switched between
 * `troupe.feed.bench.*` (the host) and `bench.raw.*` (the subscriber) for `--rounds` pairs of
 * measured phases, so that both are measured side by side under the same machine load, and the
 * median of each is reported. Each receiver grants the injector frames as it consumes them
 * (`--window` in flight), so neither is overrun. The host's peak resident memory is reported too:
 * its process's peak up to the end of the first host phase, with its memory by part (V8's spaces,
 * array buffers) then and before its first frame, in the log.
 *
 * With `--threads N` (N > 1) the host under test runs its 64 partitions on N worker threads
 * (threaded_host.ts), and a one-thread host (as without the option) runs beside it on feeds of its
 * own: each round measures the threaded host, the one-thread host and raw nats.js, and a second
 * row, `threads_samples_per_s`, gives the threaded host against the one-thread host. With
 * `--deadline` the second host is the same one-thread host without a step watchdog (its steps
 * have no deadline: step_watch.ts), and the row `deadline_samples_per_s` gives the host (with
 * one, as `troupe run` runs) against it: what a step's deadline costs. With `--team-kind` the
 * host runs the kind as a team's (its steps tried on a worker thread first, step_trials.ts) and
 * the second host runs it on the host's thread, and the row `team_kind_samples_per_s` gives the
 * one against the other: what that isolation costs (_paired_hosts.ts).
 *
 * Each round has rows of its own too, so that a reader can tell which regime a median came from
 * (the raw subscriber's rate moves 2x with its garbage collector's): `samples_per_s_round_N`, and
 * beside it the receiving process's CPU share (`receiver_cpu_pct_round_N`, % of one core, all its
 * threads) and the share of the phase its main thread spent in GC pauses
 * (`receiver_gc_pct_round_N`, where the runtime reports collections: Node, not Deno), the host
 * against raw nats.js; with `--threads`, the same with a `threads_` prefix, the threaded host
 * against the one-thread host. With `--threads`, `--deadline` or `--team-kind` the two hosts
 * compared run in this process beside the raw subscriber, each fed in its own phase, so the
 * process's figures in a phase are its receiver's, and the memory row is this process's.
 */
import { connect } from "@nats-io/transport-node";
import { join } from "node:path";
import {
  coreInput,
  defaultHostConfig,
  type HostConfig,
  launchHost,
  NatsBus,
  parseHostConfig,
  ThreadedHost,
} from "../actors/runtime/mod.ts";
import { areaPrefix, feedPattern } from "../protocol/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { actorKind } from "./_bench_options.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { startBenchNats } from "./_bench_nats.ts";
import { ChildScript } from "./_child_script.ts";
import { tempDir } from "./_temp_dir.ts";
import { cpuShares, formatCpuShares } from "./_process_usage.ts";
import { GcPauses } from "./_gc_pauses.ts";
import { median } from "./_median.ts";
import { sleep } from "./_sleep.ts";
import { human } from "./_human.ts";
import { ACTOR_KINDS, ACTOR_KINDS_MODULE } from "../actors/mod.ts";
import { deadlinePair, startHostPair, teamKindPair } from "./_paired_hosts.ts";
import {
  CONTROL_SUBJECT,
  CREDIT_SUBJECT,
  Feeder,
  localReceiver,
  type Receiver,
  startHostProcess,
  ThisProcess,
} from "./_pipeline_receivers.ts";

const NAME = "pipeline";
/** The feed of the host under test, and the prefix of its subjects (`troupe.feed.bench`). */
const HOST_FEED = "bench";
const HOST_PREFIX = areaPrefix("feed") + HOST_FEED;
/** The one-thread host's feed when a threaded host is measured beside it. */
const ONE_FEED = "bench1";
const ONE_PREFIX = areaPrefix("feed") + ONE_FEED;
/** The partitions of a threaded host under test, shared out among its threads. */
const THREADED_PARTITIONS = 64;
const RAW_PREFIX = "bench.raw";
/** How long a phase waits for its receiver's first frame after the switch, ms. */
const FIRST_FRAME_WAIT_MS = 30_000;
/** How often it looks, ms. */
const FIRST_FRAME_POLL_MS = 20;

/** Settings of a run. */
interface PipelineSettings {
  kind: string;
  channels: number;
  batch: number;
  seconds: number;
  settleS: number;
  warmupS: number;
  window: number;
  rounds: number;
  threads: number;
  deadline: boolean;
  teamKind: boolean;
}

const OPTIONS = {
  actor: { help: "actor kind run on every channel", arg: "KIND", default: "stats" },
  channels: { help: "channels", default: 64, number: { min: 1, max: 100_000, integer: true } },
  batch: {
    help: "samples per frame",
    default: 500,
    number: { min: 1, max: 65_536, integer: true },
  },
  seconds: {
    help: "measured seconds per phase",
    arg: "S",
    default: 2,
    number: { min: 0.1, max: 3600 },
  },
  rounds: {
    help: "host/raw phase pairs, interleaved; medians are reported",
    default: 3,
    number: { min: 1, max: 100, integer: true },
  },
  warmup: {
    help: "unmeasured seconds before each receiver's first phase (JIT, TurboFan's compiles)",
    arg: "S",
    default: 3,
    number: { min: 0, max: 600 },
  },
  settle: {
    help: "unmeasured seconds after each switch of receiver",
    arg: "S",
    default: 0.5,
    number: { min: 0, max: 600 },
  },
  window: {
    help: "frames in flight between injector and receiver",
    default: 512,
    number: { min: 1, max: 1_000_000, integer: true },
  },
  threads: {
    help: "the host on N worker threads, against a one-thread host too",
    default: 1,
    number: { min: 1, max: 64, integer: true },
  },
  deadline: {
    help: "the host, whose steps have a deadline (a watchdog thread beside it), against the " +
      "same host without one; the rows are then named deadline_...",
    flag: true,
  },
  "team-kind": {
    help: "the kind run as a team's, its steps tried on a worker thread first, against the " +
      "same kind on the host's thread; the rows are then named team_kind_...",
    flag: true,
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "samples/s from an injector process through nats-server to a host running an actor on every " +
    "channel, against raw nats.js publish→subscribe of the same frames",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { actor, warmup: warmupS, settle: settleS, "team-kind": teamKind, ...o } = readOptions(
      args,
      OPTIONS,
    );
    const s: PipelineSettings = { kind: actorKind(actor).kind, warmupS, settleS, teamKind, ...o };
    const paired = s.deadline ? "--deadline" : s.teamKind ? "--team-kind" : undefined;
    if (paired !== undefined && s.threads > 1) {
      throw new BenchOptionError(
        `Option ${paired} measures a one-thread host, so it takes no --threads, got ${s.threads}`,
      );
    }
    if (s.deadline && s.teamKind) {
      throw new BenchOptionError("Options --deadline and --team-kind are two runs: give one");
    }
    // Undone in order: the feeder and the injector first, the nats-server and its directory last.
    const cleanup: Cleanup = [];
    try {
      const rig = await startRig(s, ctx, cleanup);
      const rates = await measureRounds(rig, s, ctx);
      await stopInjector(rig);
      return pipelineRows(rates, s, ctx);
    } finally {
      for (const step of cleanup) {
        try {
          await step();
        } catch (err) {
          ctx.log(`${NAME}: cleanup: ${(err as Error).message}`);
        }
      }
    }
  },
};

/** What to undo when the run ends, in order. */
type Cleanup = Array<() => Promise<void> | void>;

/** The parts of a run: the receivers, the injector feeding them, and what a phase measures by. */
interface Rig {
  hosts: Hosts;
  raw: Receiver;
  injector: ChildScript;
  feeder: Feeder;
  /** The other processes whose CPU a phase reports (the receiver's is its probe's). */
  pids: Record<string, number | undefined>;
}

/**
 * Starts the nats-server, the hosts, the raw subscriber and the injector (ready), each with its
 * undoing in `cleanup`.
 */
async function startRig(s: PipelineSettings, ctx: BenchContext, cleanup: Cleanup): Promise<Rig> {
  const nats = await startBenchNats(NAME);
  cleanup.push(() => nats.stop());
  const dir = tempDir("troupe-bench-pipeline-");
  cleanup.push(() => dir.remove());
  const control = await connect({ servers: nats.url, name: "troupe-bench-control" });
  cleanup.unshift(() => control.close());

  // Observed from here to the end, so that every phase pays the same for the observer.
  const self = new ThisProcess(GcPauses.observe());
  cleanup.unshift(() => self.close());
  const hosts = await startHosts(nats.url, dir.path, s, self, ctx);
  cleanup.unshift(() => hosts.close());
  const idle = await hosts.host.memory?.();
  if (idle) ctx.log(`${NAME}: host memory before its first frame, MiB: ${JSON.stringify(idle)}`);
  const raw = await startRaw(nats.url, self, cleanup);

  const injector = startInjector(nats.url, s, ctx);
  cleanup.unshift(() => injector.kill());
  const ready = await injector.next(60_000);
  if (ready.ready !== true) {
    throw new Error(`injector said ${JSON.stringify(ready)}, not ready`);
  }
  const feeder = new Feeder(control, s.window);
  cleanup.unshift(() => feeder.stop());
  const pids = { injector: injector.pid, "nats-server": nats.pid };
  return { hosts, raw, injector, feeder, pids };
}

/** The baseline: a plain nats.js subscriber on the raw subjects that only counts frames. */
async function startRaw(
  natsUrl: string,
  self: ThisProcess,
  cleanup: Cleanup,
): Promise<Receiver> {
  const rawNc = await connect({ servers: natsUrl, name: "troupe-bench-raw" });
  cleanup.unshift(() => rawNc.close());
  let rawFrames = 0;
  rawNc.subscribe(`${RAW_PREFIX}.>`, { callback: () => void rawFrames++ });
  await rawNc.flush();
  const consumed = () => rawFrames;
  return localReceiver({ name: "raw nats.js", prefix: RAW_PREFIX, consumed }, self);
}

/** The injector process, publishing as fast as its credit allows to the receiver it is told. */
function startInjector(natsUrl: string, s: PipelineSettings, ctx: BenchContext): ChildScript {
  return ChildScript.start("bench/_injector.ts", [
    "--mode",
    "throughput",
    "--nats",
    natsUrl,
    "--channels",
    String(s.channels),
    "--batch",
    String(s.batch),
    "--credit",
    CREDIT_SUBJECT,
    "--control",
    CONTROL_SUBJECT,
  ], ctx.log);
}

/** What one measured phase gives: its receiver's rate, and its receiving process's regime. */
interface Phase {
  samplesPerS: number;
  /** The receiving process's CPU, % of one core (all its threads); undefined if unreadable. */
  cpuPct: number | undefined;
  /** The % of the phase its main thread spent in GC pauses; undefined if unreadable. */
  gcPct: number | undefined;
}

/** Each receiver's phase in each round, and the host's peak memory. */
interface Rates {
  troupe: Phase[];
  one: Phase[];
  raw: Phase[];
  rssMb: number;
}

/**
 * `s.rounds` rounds of measured phases, host (and one-thread host) then raw; the host's peak
 * memory is taken after the first round's host phases, before the raw subscriber has received
 * anything.
 */
async function measureRounds(rig: Rig, s: PipelineSettings, ctx: BenchContext): Promise<Rates> {
  const rates: Rates = { troupe: [], one: [], raw: [], rssMb: NaN };
  const { host, one } = rig.hosts;
  for (let r = 0; r < s.rounds; r++) {
    const settleS = s.settleS + (r === 0 ? s.warmupS : 0);
    rates.troupe.push(await measurePhase(rig, host, settleS, s, ctx));
    if (one) rates.one.push(await measurePhase(rig, one, settleS, s, ctx));
    if (r === 0) {
      // Up to here the host's process has held the host and nothing else of size.
      rates.rssMb = await host.peakMb();
      ctx.log(`${NAME}: host peak RSS ${rates.rssMb.toFixed(1)} MB`);
      const parts = await host.memory?.();
      if (parts) ctx.log(`${NAME}: host memory now, MiB: ${JSON.stringify(parts)}`);
    }
    rates.raw.push(await measurePhase(rig, rig.raw, settleS, s, ctx));
  }
  return rates;
}

/**
 * Switches the injector to `receiver`, lets it settle, then measures its samples/s and the
 * receiving process's CPU and GC shares.
 */
async function measurePhase(
  rig: Rig,
  receiver: Receiver,
  settleS: number,
  s: PipelineSettings,
  ctx: BenchContext,
): Promise<Phase> {
  rig.feeder.switchTo(receiver);
  await sleep(settleS * 1000);
  // Settled means taking frames: on a loaded machine the switch can take longer than the settle.
  const before = (await receiver.probe()).consumed, waitFrom = nowMs();
  while ((await receiver.probe()).consumed === before) {
    if (nowMs() - waitFrom > FIRST_FRAME_WAIT_MS) {
      throw new Error(
        `${NAME}: ${receiver.name} consumed no frame in ${FIRST_FRAME_WAIT_MS / 1000} s ` +
          `after the feed switched to it`,
      );
    }
    await sleep(FIRST_FRAME_POLL_MS);
  }
  const cpu = cpuShares(rig.pids);
  // The receiver's counts, CPU (µs, all its process's threads) and times from its own process.
  const p0 = await receiver.probe();
  await sleep(s.seconds * 1000);
  const p1 = await receiver.probe();
  const ms = p1.nowMs - p0.nowMs;
  const shares = { receiver: (p1.cpuUs - p0.cpuUs) / 10 / ms, ...cpu() };
  const samplesPerS = ((p1.consumed - p0.consumed) * s.batch) / (ms / 1000);
  // A pause's entry comes after the pause: let the phase's last ones arrive.
  await sleep(1);
  const gcPct = await receiver.gcPct(p0.nowMs, p1.nowMs);
  const gcText = gcPct === undefined ? "?" : `${gcPct.toFixed(1)}%`;
  ctx.log(
    `${NAME}: ${receiver.name}: ${human(samplesPerS)} samples/s ` +
      `(CPU: ${formatCpuShares(shares)}; receiver's GC: ${gcText})`,
  );
  if (p1.consumed === p0.consumed) {
    throw new Error(`${NAME}: ${receiver.name} consumed no frame in ${s.seconds} s`);
  }
  return { samplesPerS, cpuPct: shares.receiver, gcPct };
}

/** Stops feeding and the injector, waiting for it to exit. */
async function stopInjector(rig: Rig): Promise<void> {
  rig.feeder.stop();
  rig.injector.send("stop");
  await rig.injector.next(30_000);
  await rig.injector.wait();
}

/** The rows: samples/s against raw nats.js, the host's memory, and with --threads, against one. */
function pipelineRows(rates: Rates, s: PipelineSettings, ctx: BenchContext): BenchRow[] {
  const troupe = rates.troupe.map((p) => p.samplesPerS);
  const raw = rates.raw.map((p) => p.samplesPerS), one = rates.one.map((p) => p.samplesPerS);
  const ratios = troupe.map((t, i) => (t / raw[i]!).toFixed(3));
  ctx.log(`${NAME}: ratio by round: ${ratios.join(", ")}`);
  const prefix = s.deadline ? "deadline_" : s.teamKind ? "team_kind_" : "threads_";
  const threadRows = one.length === 0 ? [] : [
    row({
      bench: NAME,
      metric: `${prefix}samples_per_s`,
      unit: "samples/s",
      troupe: median(troupe),
      baseline: median(one),
      better: "higher",
    }),
  ];
  if (one.length > 0) {
    const by = troupe.map((t, i) => (t / one[i]!).toFixed(3));
    const versus = s.deadline
      ? "with a step deadline / without"
      : s.teamKind
      ? "a team's kind on a worker thread first / on the host's thread"
      : `--threads ${s.threads} / 1`;
    ctx.log(`${NAME}: ${versus} by round: ${by.join(", ")}`);
  }
  return [
    row({
      bench: NAME,
      metric: "samples_per_s",
      unit: "samples/s",
      troupe: median(troupe),
      baseline: median(raw),
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "host_rss_mb",
      unit: "MB",
      troupe: rates.rssMb,
      baseline: null,
      better: "lower",
    }),
    ...threadRows,
    ...roundRows("", rates.troupe, rates.raw),
    ...(one.length === 0 ? [] : roundRows(prefix, rates.troupe, rates.one)),
  ];
}

/**
 * Each round's rows, the arm under test against its baseline: samples/s, and the receiving
 * process's CPU and GC shares (a row left out where the arm under test's figure is unreadable).
 */
function roundRows(prefix: string, tested: Phase[], baselines: Phase[]): BenchRow[] {
  const rows: BenchRow[] = [];
  tested.forEach((t, i) => {
    const b = baselines[i]!, round = `round_${i + 1}`;
    rows.push(row({
      bench: NAME,
      metric: `${prefix}samples_per_s_${round}`,
      unit: "samples/s",
      troupe: t.samplesPerS,
      baseline: b.samplesPerS,
      better: "higher",
    }));
    const shares = [
      ["receiver_cpu_pct", "% of a core", t.cpuPct, b.cpuPct],
      ["receiver_gc_pct", "% of wall", t.gcPct, b.gcPct],
    ] as const;
    for (const [metric, unit, troupe, baseline] of shares) {
      if (troupe === undefined) continue;
      rows.push(row({
        bench: NAME,
        metric: `${prefix}${metric}_${round}`,
        unit,
        troupe,
        baseline: baseline ?? null,
        better: "lower",
      }));
    }
  });
  return rows;
}

/** The hosts under test: the host, and with --threads the one-thread host beside it. */
interface Hosts {
  host: Receiver;
  one: Receiver | undefined;
  close(): Promise<void>;
}

/**
 * Starts the host under test (the actor on every channel, file journal and snapshots in `dir`):
 * one thread as `troupe run` does by default, or `s.threads` threads with a one-thread host beside
 * it on feeds of its own.
 */
async function startHosts(
  natsUrl: string,
  dir: string,
  s: PipelineSettings,
  self: ThisProcess,
  ctx: BenchContext,
): Promise<Hosts> {
  const kinds = { [s.kind]: actorKind(s.kind) };
  const log = (m: string) => ctx.log(`host: ${m}`);
  const name = `troupe (${s.kind} on ${s.channels} channels)`;
  const feeds: [string, string] = [HOST_FEED, ONE_FEED];
  const configIn = (d: string) => hostConfig(natsUrl, d, s);
  if (s.deadline || s.teamKind) {
    const pair = s.deadline
      ? deadlinePair(name, feeds, configIn)
      : teamKindPair(name, s.kind, feeds, configIn);
    const two = await startHostPair(natsUrl, dir, { ...pair, def: actorKind(s.kind) }, log);
    const [host, one] = [localReceiver(two.host, self), localReceiver(two.one, self)];
    return { host, one, close: two.close };
  }
  if (s.threads === 1) {
    const config = JSON.stringify(hostFile(natsUrl, join(dir, "host"), s));
    const run = { config, kind: s.kind, natsUrl, window: s.window };
    const child = await startHostProcess(name, HOST_PREFIX, run, log);
    return { host: child.receiver, one: undefined, close: child.close };
  }
  const config = hostConfig(natsUrl, join(dir, "threaded"), s);
  const all = [...Array(THREADED_PARTITIONS).keys()];
  config.partitions = { count: THREADED_PARTITIONS, owned: all };
  const threaded = await ThreadedHost.start(config, s.threads, {
    kinds: ACTOR_KINDS_MODULE,
    log,
    feeds: feedPattern(HOST_FEED),
  });
  const bus = await NatsBus.connect(natsUrl, { name: "bench-one-thread" }).catch(async (err) => {
    await threaded.close();
    throw err;
  });
  const one = await launchHost(hostConfig(natsUrl, join(dir, "one"), s), kinds, {
    log,
    bus,
    input: coreInput(bus, feedPattern(ONE_FEED)),
  }).catch(async (err) => {
    await threaded.close();
    await bus.close();
    throw err;
  });
  return {
    host: localReceiver({
      name: `${name} on ${threaded.threads} threads`,
      prefix: HOST_PREFIX,
      consumed: () => threaded.applied(s.kind),
    }, self),
    one: localReceiver({
      name: `${name} on 1 thread`,
      prefix: ONE_PREFIX,
      consumed: () => one.host.applied.get(s.kind) ?? 0,
    }, self),
    async close() {
      await one.close();
      await bus.close();
      await threaded.close();
    },
  };
}

/**
 * A host's configuration file's fields: the actor on every channel, file journal and snapshots
 * in `dir`.
 */
function hostFile(natsUrl: string, dir: string, s: PipelineSettings): Record<string, unknown> {
  return {
    host_id: "bench-host",
    nats: natsUrl,
    data_dir: dir,
    input: "core",
    journal: { kind: "file", fsync: "interval", fsync_interval_ms: 100 },
    snapshots: { store: "file", every_inputs: 1000, every_ms: 5000 },
    // The kind alone: a host runs every kind it knows but those a section turns off.
    actors: Object.fromEntries(
      Object.keys(ACTOR_KINDS).map((k) => [k, k === s.kind ? {} : { enabled: false }]),
    ),
    // Every channel the bench feeds is admitted, however many it is asked for.
    limits: { channels_max: Math.max(defaultHostConfig().limits.channels_max, s.channels) },
  };
}

/** The host configuration of `hostFile`. */
function hostConfig(natsUrl: string, dir: string, s: PipelineSettings): HostConfig {
  return parseHostConfig(hostFile(natsUrl, dir, s), ACTOR_KINDS);
}
