/**
 * `troupe bench remote-write`: Prometheus remote-write requests shaped as Prometheus sends them
 * (each shard's 2,000 series, one sample each a request, a shard's requests one after another,
 * `--shards` shards in flight) against troupe's receiver (its own process, on nats-server, each
 * request answered once the feed stream has acknowledged its batch) and against Debian's
 * VictoriaMetrics receiving the same requests in the same run, alternated over `--rounds`. Rows:
 * `remote_write_samples_per_s` (as fast as each takes them; its log line also says the CPU seconds
 * a million samples cost each target's processes, troupe's receiver and nats-server, which moves
 * less than the rate when others load the machine), `remote_write_ack_ms_p99` (paced at
 * `--paced-rate` samples/s); with `--channels` active channels fed to a `troupe run` host with
 * the default detectors (a sample a channel every `--detect-interval-s`, 15 s as Prometheus
 * usually scrapes, each 2,000 series a target whose scrapes are spread over the interval as
 * Prometheus spreads them: `--detect-shape`), `rss_mb_per_1k_channels`
 * and `detect_lag_ms_p99` (from a request's first send, retried as Prometheus retries a 5xx, to
 * the anomaly detector's output for its samples); its log line also says the requests' times to
 * their answers while the host is loaded with the detectors.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { freePort, NatsServer } from "../actors/runtime/mod.ts";
import { decodeEnvelope, outPattern, outPrefix } from "../protocol/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, percentile, row } from "./_bench.ts";
import { type OptionTable, type OptionValues, readOptions } from "./_option_table.ts";
import { ChildScript } from "./_child_script.ts";
import { requestBody, shardLabels } from "./_remote_write_requests.ts";
import { tempDir } from "./_temp_dir.ts";
import { sleep } from "./_sleep.ts";
import { processCpuMs, threadCpuMs } from "./_process_usage.ts";

const NAME = "remote-write";
const VM_BIN = "/usr/bin/victoria-metrics";

const OPTIONS = {
  shards: {
    help: "requests in flight (Prometheus's shards)",
    default: 16,
    number: { min: 1, max: 256, integer: true },
  },
  series: {
    help: "series per request",
    default: 2000,
    number: { min: 1, max: 10_000, integer: true },
  },
  requests: {
    help: "requests per shard in each throughput round",
    default: 25,
    number: { min: 1, max: 10_000, integer: true },
  },
  rounds: {
    help: "alternated rounds of troupe and VictoriaMetrics",
    default: 2,
    number: { min: 1, max: 20, integer: true },
  },
  "paced-rate": {
    help: "samples/s of the acknowledgement-latency run",
    default: 100_000,
    number: { min: 1000, max: 10_000_000, integer: true },
  },
  "paced-s": {
    help: "seconds of the acknowledgement-latency run",
    default: 6,
    number: { min: 1, max: 600 },
  },
  channels: {
    help: "active channels of the detector run (0: skip it)",
    default: 10_000,
    number: { min: 0, max: 100_000, integer: true },
  },
  "detect-s": {
    help: "seconds of the detector run",
    default: 60,
    number: { min: 5, max: 3600 },
  },
  "detect-interval-s": {
    help: "seconds between a channel's samples in the detector run (Prometheus's scrape interval)",
    default: 15,
    number: { min: 1, max: 600, integer: true },
  },
  "detect-shape": {
    help: "when the detector run's requests go: spread (each request of 2,000 series a target " +
      "scraped, the targets' scrapes spread over the interval, as Prometheus spreads them) or " +
      "burst (every channel's sample at once)",
    oneOf: ["spread", "burst"] as const,
    default: "spread",
  },
} satisfies OptionTable;

/** A receiver to send to. */
interface Target {
  name: string;
  url: string;
  /** The processes whose CPU time its samples cost (its receiver, and nats-server's for troupe). */
  pids: Array<number | undefined>;
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "remote-write samples/s and ack p99 of troupe's receiver against VictoriaMetrics; " +
    "memory and detector lag at 10,000 channels",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    if (!existsSync(VM_BIN)) {
      throw new Error(
        `Cannot run bench ${NAME}: ${VM_BIN} is missing (apt-get install victoria-metrics)`,
      );
    }
    const dir = tempDir("troupe-bench-rw-");
    const nats = await NatsServer.start({ storeDir: join(dir.path, "js") });
    let vm: ChildProcess | undefined;
    let receiver: ChildScript | undefined;
    const rows: BenchRow[] = [];
    try {
      const vmPort = await freePort();
      vm = spawn(VM_BIN, [
        `-storageDataPath=${join(dir.path, "vm")}`,
        `-httpListenAddr=127.0.0.1:${vmPort}`,
        "-loggerLevel=ERROR",
      ], { stdio: "ignore" });
      await ready(`http://127.0.0.1:${vmPort}/health`);
      receiver = ChildScript.start(
        "bench/_remote_write_receiver.ts",
        [nats.url, "200000"],
        ctx.log,
      );
      const { port } = await receiver.next(60_000) as { port: number };
      const targets: Target[] = [
        {
          name: "troupe",
          url: `http://127.0.0.1:${port}/api/v1/write`,
          pids: [receiver.pid, nats.pid],
        },
        {
          name: "victoria-metrics",
          url: `http://127.0.0.1:${vmPort}/api/v1/write`,
          pids: [vm.pid],
        },
      ];
      const labels = Array.from({ length: o.shards }, (_, s) => shardLabels(s, o.series));
      const clock = { tMs: Date.now() - 3_600_000 };
      rows.push(await throughputRow(targets, labels, o, clock, ctx));
      rows.push(await ackRow(targets, labels, o, clock, ctx));
      receiver.send("stop");
      await receiver.wait();
      receiver = undefined;
      if (o.channels > 0) rows.push(...await detectRows(dir.path, o, ctx));
      return rows;
    } finally {
      await receiver?.kill();
      vm?.kill("SIGKILL");
      await nats.stop();
      dir.remove();
    }
  },
};

type Options = OptionValues<typeof OPTIONS>;

/** Samples/s each target takes, the same requests to each, alternated over the rounds. */
async function throughputRow(
  targets: Target[],
  labels: Uint8Array[][],
  o: Options,
  clock: { tMs: number },
  ctx: BenchContext,
): Promise<BenchRow> {
  // Warm-up, not measured: each series seen once (troupe resolves a series' channel the first
  // time it sees it) and the code paths compiled, as in a receiver that has run a while.
  const warm = labels.map((l, s) => requestBody(l, clock.tMs, s));
  clock.tMs += 1000;
  for (const target of targets) await Promise.all(warm.map((b) => send(target.url, b)));
  const rates: Record<string, number[]> = { troupe: [], "victoria-metrics": [] };
  const cpu: Record<string, number[]> = { troupe: [], "victoria-metrics": [] };
  for (let r = 0; r < o.rounds; r++) {
    const bodies = labels.map((l, s) =>
      Array.from({ length: o.requests }, (_, k) => requestBody(l, clock.tMs + k * 1000, s))
    );
    clock.tMs += o.requests * 1000;
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const { rate, cpuS } = await throughput(target, bodies, o.series);
      rates[target.name]!.push(rate);
      cpu[target.name]!.push(cpuS);
      ctx.log(
        `${NAME}: round ${r + 1}: ${target.name} ${Math.round(rate)} samples/s, ` +
          `${cpuS.toFixed(2)} CPU s a million samples`,
      );
    }
  }
  const range = (xs: number[]) =>
    `${Math.round(Math.min(...xs))} to ${Math.round(Math.max(...xs))}`;
  ctx.log(
    `${NAME}: samples/s over ${o.rounds} rounds: troupe ${range(rates.troupe!)}, ` +
      `victoria-metrics ${range(rates["victoria-metrics"]!)}; CPU s a million samples ` +
      `(troupe: its receiver's process and nats-server) troupe ${cpuRange(cpu.troupe!)}, ` +
      `victoria-metrics ${cpuRange(cpu["victoria-metrics"]!)}`,
  );
  return row({
    bench: NAME,
    metric: "remote_write_samples_per_s",
    unit: "samples/s",
    troupe: Math.round(Math.max(...rates.troupe!)),
    baseline: Math.round(Math.max(...rates["victoria-metrics"]!)),
    better: "higher",
  });
}

/** Acknowledgement p99 at the paced rate, the same requests to each target. */
async function ackRow(
  targets: Target[],
  labels: Uint8Array[][],
  o: Options,
  clock: { tMs: number },
  ctx: BenchContext,
): Promise<BenchRow> {
  const perRequest = o.series;
  const total = Math.ceil((o["paced-rate"] * o["paced-s"]) / perRequest);
  const paced = Array.from(
    { length: total },
    (_, j) =>
      requestBody(labels[j % o.shards]!, clock.tMs + Math.floor(j / o.shards) * 1000, j % o.shards),
  );
  clock.tMs += Math.ceil(total / o.shards) * 1000 + 1000;
  const p99: Record<string, number> = {};
  for (const target of targets) {
    const lat = await pacedLatencies(target, paced, o["paced-rate"] / perRequest, o.shards);
    lat.sort((a, b) => a - b);
    p99[target.name] = percentile(lat, 99);
    ctx.log(
      `${NAME}: paced ${o["paced-rate"]} samples/s: ${target.name} ack p50 ` +
        `${percentile(lat, 50).toFixed(1)} ms, p99 ${p99[target.name]!.toFixed(1)} ms`,
    );
  }
  return row({
    bench: NAME,
    metric: "remote_write_ack_ms_p99",
    unit: "ms",
    troupe: round1(p99.troupe!),
    baseline: round1(p99["victoria-metrics"]!),
    better: "lower",
  });
}

/** The detector run, on a nats-server of its own: the host reads its feed stream from the start. */
async function detectRows(dir: string, o: Options, ctx: BenchContext): Promise<BenchRow[]> {
  const detectNats = await NatsServer.start({ storeDir: join(dir, "js-detect") });
  try {
    return await detectRun(detectNats.url, dir, o.channels, {
      seconds: o["detect-s"],
      intervalS: o["detect-interval-s"],
      spread: o["detect-shape"] === "spread",
    }, ctx);
  } finally {
    await detectNats.stop();
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

async function ready(url: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await fetch(url).then((r) => (r.body?.cancel(), r.ok), () => false))) {
    if (Date.now() - t0 > ms) throw new Error(`${url} was not ready within ${ms} ms`);
    await sleep(100);
  }
}

/** Sends a request, retrying a 5xx or a failed connection as Prometheus does (backing off). */
async function send(url: string, body: Uint8Array, retries = 0): Promise<void> {
  let why = "";
  for (let attempt = 0, backoff = 100; attempt <= retries; attempt++, backoff *= 2) {
    if (attempt > 0) await sleep(Math.min(backoff, 2000));
    let r: Response;
    try {
      r = await fetch(url, {
        method: "POST",
        body: body as Uint8Array<ArrayBuffer>,
        headers: {
          "content-encoding": "snappy",
          "content-type": "application/x-protobuf",
          "x-prometheus-remote-write-version": "0.1.0",
        },
      });
    } catch (err) {
      why = `failed: ${(err as Error).message} (${(err as Error).cause})`;
      continue;
    }
    const text = await r.text();
    if (r.status < 300) return;
    why = `answered ${r.status}: ${text}`;
    if (r.status < 500) break;
  }
  throw new Error(`POST ${url} ${why}`);
}

/**
 * Samples/s with each shard's requests sent one after another, every shard at once, and the CPU
 * seconds the target's processes spent a million samples (NaN where it cannot be read): on a
 * machine others load, the figure that moves less than the rate.
 */
async function throughput(
  target: Target,
  bodies: Uint8Array[][],
  perRequest: number,
): Promise<{ rate: number; cpuS: number }> {
  const cpu0 = targetCpuMs(target);
  const t0 = performance.now();
  await Promise.all(bodies.map(async (list) => {
    for (const body of list) await send(target.url, body);
  }));
  const s = (performance.now() - t0) / 1000;
  const samples = bodies.length * bodies[0]!.length * perRequest;
  const cpuS = (targetCpuMs(target) - cpu0) / 1000 / (samples / 1e6);
  return { rate: samples / s, cpuS };
}

/** The CPU milliseconds `target`'s processes have used so far (NaN where one cannot be read). */
function targetCpuMs(target: Target): number {
  let ms = 0;
  for (const pid of target.pids) ms += processCpuMs(pid) ?? NaN;
  return ms;
}

function cpuRange(xs: number[]): string {
  return `${Math.min(...xs).toFixed(2)} to ${Math.max(...xs).toFixed(2)}`;
}

/** Each request's time to its answer, requests started at `perSecond` (at most `inFlight`). */
async function pacedLatencies(
  target: Target,
  bodies: Uint8Array[],
  perSecond: number,
  inFlight: number,
): Promise<number[]> {
  const lat: number[] = [];
  const t0 = performance.now();
  let busy = 0;
  const running: Promise<void>[] = [];
  for (let j = 0; j < bodies.length; j++) {
    const due = t0 + (j * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (busy >= inFlight) await sleep(1);
    busy++;
    const start = performance.now();
    running.push(
      send(target.url, bodies[j]!).then(() => {
        lat.push(performance.now() - start);
        busy--;
      }),
    );
  }
  await Promise.all(running);
  return lat;
}

/**
 * `channels` channels fed by remote write, a sample each every interval, to a `troupe run` host
 * with the default detectors and the receiver: its memory per 1,000 channels (resident, less the
 * same host's before any channel), and the time from a request's send to the anomaly detector's
 * output for its samples, on a few hundred channels watched.
 */
async function detectRun(
  natsUrl: string,
  dir: string,
  channels: number,
  run: { seconds: number; intervalS: number; spread: boolean },
  ctx: BenchContext,
): Promise<BenchRow[]> {
  const writePort = await freePort();
  const config = await writeDetectConfig(dir, { natsUrl, channels, writePort });
  const host = ChildScript.start("bench/_remote_write_host.ts", [config], ctx.log);
  const nc = await connect({ servers: natsUrl });
  try {
    await ready(`http://127.0.0.1:${writePort}/healthz`, 60_000);
    await sleep(2000);
    const rss0 = rssMb(host.pid);
    const perShard = 2000;
    const shards = Math.ceil(channels / perShard);
    const labels = Array.from(
      { length: shards },
      (_, s) => shardLabels(1000 + s, Math.min(perShard, channels - s * perShard)),
    );
    // Watch the anomaly outputs of 200 of the first shard's channels, spread over its request
    // (a request's last channels are taken last), each round's send time kept by sample time.
    // The first round makes the channels: its lag is said apart (the host's start).
    const sentAt = new Map<number, { round: number; at: number }>();
    const lags: number[] = [];
    const startLags: number[] = [];
    const watched = watchedChannels(Math.min(perShard, channels));
    const sub = watchLags(
      nc,
      watched,
      sentAt,
      (round, lag) => (round === 0 ? startLags : lags).push(lag),
    );
    // Each shard's last channel, the last its request makes: out once the host has made them all.
    const unmade = new Set(labels.map((l, s) => benchChannel(1000 + s, l.length - 1)));
    const made = nc.subscribe(outPattern("anomaly"), {
      callback: (_e, m) => void unmade.delete(m.subject.slice(outPrefix("anomaly").length)),
    });
    const url = `http://127.0.0.1:${writePort}/api/v1/write`;
    // The channels made, then the measured rounds once the host has caught up with making them
    // (every watched channel's first output in, and every shard's last channel's): a host's start
    // is not its steady state, and a receiver that answers sooner must not start the measured
    // rounds while the host still makes the other shards' channels.
    const t0 = performance.now();
    await sendRounds(url, labels, { ...run, seconds: run.intervalS, from: 0 }, sentAt, () => {});
    while (
      (startLags.length < watched.size || unmade.size > 0) && performance.now() - t0 < CATCH_UP_MS
    ) {
      await sleep(200);
    }
    made.unsubscribe();
    const madeS = (performance.now() - t0) / 1000;
    const cpu0 = threadCpuMs(host.pid);
    let rounds = 0;
    const acks: number[] = [];
    await sendRounds(url, labels, { ...run, from: 1, acks }, sentAt, () => rounds++);
    await sleep(run.intervalS * 1000);
    const cpu1 = threadCpuMs(host.pid);
    sub.unsubscribe();
    const rss1 = rssMb(host.pid);
    lags.sort((a, b) => a - b);
    acks.sort((a, b) => a - b);
    // The host's main thread's CPU time per measured round (a round: a sample of every channel):
    // what the detectors cost, whatever else the machine runs meanwhile.
    const cpuRound = cpu0 === undefined || cpu1 === undefined ? NaN : (cpu1 - cpu0) / rounds;
    ctx.log(detectLine(channels, run, { rss0, rss1, lags, startLags, madeS, cpuRound, acks }));
    return detectRunRows(channels, rss0, rss1, percentile(lags, 99));
  } finally {
    await nc.close();
    // Asked to stop, so that a profiling flag (TROUPE_BENCH_CHILD_FLAGS) writes its profile.
    if (host.pid !== undefined) process.kill(host.pid, "SIGTERM");
    await host.wait(10_000);
  }
}

/** Writes the detector run's host configuration file; returns its path. */
async function writeDetectConfig(
  dir: string,
  o: { natsUrl: string; channels: number; writePort: number },
): Promise<string> {
  const config = join(dir, "host.json");
  writeFileSync(
    config,
    JSON.stringify({
      nats: { url: o.natsUrl },
      input: "jetstream",
      data_dir: join(dir, "host"),
      http_port: await freePort(),
      limits: { channels_max: o.channels },
      remote_write: { port: o.writePort, feed: "detect" },
    }),
  );
  return config;
}

/** 200 of the first shard's `first` channels, spread over its request. */
function watchedChannels(first: number): Set<string> {
  const watched = new Set<string>();
  for (let i = 0; i < first; i += Math.max(1, Math.floor(first / 200))) {
    watched.add(benchChannel(1000, i));
  }
  return watched;
}

/** The detector run's figures in words, for the bench's log. */
function detectLine(
  channels: number,
  run: { intervalS: number; spread: boolean },
  f: {
    rss0: number;
    rss1: number;
    lags: number[];
    startLags: number[];
    madeS: number;
    cpuRound: number;
    /** The measured rounds' requests' times to their answers, sorted. */
    acks: number[];
  },
): string {
  return `${NAME}: ${channels} channels, a sample each every ${run.intervalS} s ` +
    `(${Math.round(channels / run.intervalS)} samples/s, in requests of up to 2000 series, ` +
    `${run.spread ? "spread over the interval" : "all at once"}): ` +
    `host RSS ${f.rss0.toFixed(0)} MB before, ${f.rss1.toFixed(0)} MB after; detect lag p50 ` +
    `${percentile(f.lags, 50).toFixed(0)} ms, p99 ${
      percentile(f.lags, 99).toFixed(0)
    } ms over ${f.lags.length} outputs; ack p50 ${percentile(f.acks, 50).toFixed(0)} ms, p99 ${
      percentile(f.acks, 99).toFixed(0)
    } ms over ${f.acks.length} requests ` +
    `(the first round, which makes the channels: max ${
      Math.round(Math.max(...f.startLags))
    } ms, caught up after ${f.madeS.toFixed(1)} s); host main thread CPU ${
      f.cpuRound.toFixed(0)
    } ms a round (${((f.cpuRound * 1000) / channels).toFixed(0)} us a channel's sample)`;
}

/** The detector run's rows: memory per 1,000 channels and the detect lag's p99. */
function detectRunRows(channels: number, rss0: number, rss1: number, p99: number): BenchRow[] {
  return [
    row({
      bench: NAME,
      metric: "rss_mb_per_1k_channels",
      unit: "MB",
      troupe: round1(((rss1 - rss0) / channels) * 1000),
      baseline: null,
      better: "lower",
    }),
    row({
      bench: NAME,
      metric: "detect_lag_ms_p99",
      unit: "ms",
      troupe: Math.round(p99),
      baseline: null,
      better: "lower",
    }),
  ];
}

/** Lags from a round's send to the anomaly outputs of `watched` channels for its samples. */
function watchLags(
  nc: NatsConnection,
  watched: Set<string>,
  sentAt: Map<number, { round: number; at: number }>,
  lag: (round: number, ms: number) => void,
): Subscription {
  const sub = nc.subscribe(outPattern("anomaly"));
  (async () => {
    for await (const m of sub) {
      const channel = m.subject.slice(outPrefix("anomaly").length);
      if (!watched.has(channel)) continue;
      const ts = readTs(m.data);
      const sent = ts === undefined ? undefined : sentAt.get(Math.round(ts / 1000));
      if (sent !== undefined) lag(sent.round, performance.now() - sent.at);
    }
  })();
  return sub;
}

/** Milliseconds the detector run waits for the host to have made the channels. */
const CATCH_UP_MS = 180_000;

/**
 * Sends every shard's request each `intervalS` for `seconds`, keeping when each was first sent
 * by its sample time and round (counted from `from`), and each one's time to its answer in
 * `acks`; `onRound(k)` runs as round `k` starts.
 * Spread, shard `s` of `n` (a target of 2,000 series) is scraped `s / n` of the interval into each
 * round, its samples timed then, as Prometheus spreads its targets' scrapes over the interval; not
 * spread, every shard at once.
 */
async function sendRounds(
  url: string,
  labels: Uint8Array[][],
  run: { seconds: number; intervalS: number; spread: boolean; from: number; acks?: number[] },
  sentAt: Map<number, { round: number; at: number }>,
  onRound: (k: number) => void,
): Promise<void> {
  const intervalMs = run.intervalS * 1000;
  const t0Ms = Math.floor(Date.now() / 1000) * 1000;
  const t0 = performance.now();
  const sent: Promise<void>[] = [];
  for (let k = 0; k * run.intervalS < run.seconds; k++) {
    for (let s = 0; s < labels.length; s++) {
      const offset = run.spread ? Math.floor((s * intervalMs) / labels.length) : 0;
      const tMs = t0Ms + k * intervalMs + offset;
      const body = requestBody(labels[s]!, tMs, s);
      const wait = t0 + k * intervalMs + offset - performance.now();
      if (wait > 0) await sleep(wait);
      if (s === 0) onRound(run.from + k);
      const at = performance.now();
      sentAt.set(tMs, { round: run.from + k, at });
      sent.push(send(url, body, 10).then(() => void run.acks?.push(performance.now() - at)));
    }
    if (!run.spread) await Promise.all(sent.splice(0));
  }
  await Promise.all(sent);
}

/** The channel name troupe gives series `i` of bench shard `shard` (series_channel.ts). */
function benchChannel(shard: number, i: number): string {
  return `host-${shard}-${Math.floor(i / 40)}_9100-bench-z${i % 3}-bench_metric_${i % 40}_seconds`;
}

/** The envelope's `ts` (µs: the frame's last sample's time) of an output message. */
function readTs(data: Uint8Array): number | undefined {
  try {
    return decodeEnvelope(data).ts;
  } catch {
    return undefined;
  }
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
