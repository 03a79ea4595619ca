/**
 * `troupe bench remote-write`'s detector run: channels fed by remote write to a `troupe run` host
 * with the kinds a host fed metrics runs by default (and bars and stats with `--bars`, `--stats`)
 * and the receiver (bench/_remote_write_host.ts), for the rows `rss_mb_per_1k_channels` and
 * `detect_lag_ms_p99`; then the host stopped and started again (_remote_write_restart.ts) for
 * `host_stop_s` and `host_start_s`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { freePort } from "../actors/runtime/mod.ts";
import { decodeEnvelope, outPattern, outPrefix, outSubject } from "../protocol/mod.ts";
import { type BenchContext, type BenchRow, percentile, row } from "./_bench.ts";
import { ChildScript } from "./_child_script.ts";
import { requestBody, shardLabels } from "./_remote_write_requests.ts";
import { ready, send } from "./_remote_write_send.ts";
import { sleep } from "./_sleep.ts";
import { threadCpuMs } from "./_process_usage.ts";
import { HOST_SCRIPT, restartRun } from "./_remote_write_restart.ts";
import { anomalyKernelUsPerSample } from "./anomaly.ts";

/** The kinds for markets the detector run's host runs too (`--bars`, `--stats`). */
export interface MarketKinds {
  bars: boolean;
  stats: boolean;
}

const NAME = "remote-write";

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * `channels` channels fed by remote write, a sample each every interval, to a `troupe run` host
 * with the default detectors and the receiver: its memory per 1,000 channels (resident, less the
 * same host's before any channel), and the time from a request's send to the anomaly detector's
 * output for its samples, on a few hundred channels watched; then its stop and start.
 */
export async function detectRun(
  natsUrl: string,
  dir: string,
  channels: number,
  run: { seconds: number; intervalS: number; spread: boolean } & MarketKinds,
  ctx: BenchContext,
): Promise<BenchRow[]> {
  const writePort = await freePort();
  const httpPort = await freePort();
  const config = writeDetectConfig(dir, { natsUrl, channels, writePort, httpPort }, run);
  const host = ChildScript.start(HOST_SCRIPT, [config], ctx.log);
  const nc = await connect({ servers: natsUrl });
  let restarting = false; // once the stop and start begin, they stop the host themselves
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
    const writeUrl = `http://127.0.0.1:${writePort}/api/v1/write`;
    // The channels made, then the measured rounds once the host has caught up with making them
    // (every watched channel's first output in, and every shard's last channel's): a host's start
    // is not its steady state, and a receiver that answers sooner must not start the measured
    // rounds while the host still makes the other shards' channels.
    const t0 = performance.now();
    const first = { ...run, seconds: run.intervalS, from: 0 };
    await sendRounds(writeUrl, labels, first, sentAt, () => {});
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
    await sendRounds(writeUrl, labels, { ...run, from: 1, acks }, sentAt, () => rounds++);
    await sleep(run.intervalS * 1000);
    const cpu1 = threadCpuMs(host.pid);
    sub.unsubscribe();
    const rss1 = rssMb(host.pid);
    for (const xs of [lags, acks]) xs.sort((a, b) => a - b);
    // The host's main thread's CPU time per measured round (a round: a sample of every channel):
    // what the detectors cost, whatever else the machine runs meanwhile.
    const cpuRound = cpu0 === undefined || cpu1 === undefined ? NaN : (cpu1 - cpu0) / rounds;
    const figures = { rss0, rss1, lags, startLags, madeS, cpuRound, acks };
    const rows = detectReport(channels, run, figures, ctx);
    restarting = true;
    const parts = { host, config, httpPort, writeUrl, nc, channels, watched, labels: labels[0]! };
    return [...rows, ...await restartRun({ ...parts, waitMs: hostStopMs(channels) }, ctx)];
  } finally {
    await nc.close();
    // Asked to stop, so that a profiling flag (TROUPE_BENCH_CHILD_FLAGS) writes its profile.
    if (!restarting && host.pid !== undefined) process.kill(host.pid, "SIGTERM");
    await host.wait(hostStopMs(channels));
  }
}

/** Writes the detector run's host configuration file; returns its path. */
function writeDetectConfig(
  dir: string,
  o: { natsUrl: string; channels: number; writePort: number; httpPort: number },
  markets: MarketKinds,
): string {
  const config = join(dir, "host.json");
  writeFileSync(
    config,
    JSON.stringify({
      nats: { url: o.natsUrl },
      input: "jetstream",
      data_dir: join(dir, "host"),
      http_port: o.httpPort,
      limits: { channels_max: o.channels },
      remote_write: { port: o.writePort, feed: "detect" },
      // A host fed metrics runs no kind for markets unless its config writes its section.
      actors: {
        ...(markets.bars ? { bars: {} } : {}),
        ...(markets.stats ? { stats: {} } : {}),
      },
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
    floorUs: number;
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
    } ms a round (${((f.cpuRound * 1000) / channels).toFixed(0)} us a channel's sample, the ` +
    `anomaly kernel's own ${f.floorUs.toFixed(2)} us a sample in frames of one)`;
}

/**
 * The detector run's line and rows, with the floor the host's CPU a sample is read against: the
 * anomaly kernel's own cost a sample, measured in this process while the host is idle.
 */
function detectReport(
  channels: number,
  run: Parameters<typeof detectLine>[1],
  figures: Omit<Parameters<typeof detectLine>[2], "floorUs">,
  ctx: BenchContext,
): BenchRow[] {
  const f = { ...figures, floorUs: anomalyKernelUsPerSample() };
  ctx.log(detectLine(channels, run, f));
  return detectRunRows(channels, f);
}

/**
 * The detector run's rows: memory per 1,000 channels, the detect lag's p99, and the host's main
 * thread's CPU a channel's sample against the anomaly kernel's own a sample (the floor).
 */
function detectRunRows(
  channels: number,
  f: { rss0: number; rss1: number; lags: number[]; cpuRound: number; floorUs: number },
): BenchRow[] {
  const { rss0, rss1 } = f;
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
      troupe: Math.round(percentile(f.lags, 99)),
      baseline: null,
      better: "lower",
    }),
    row({
      bench: NAME,
      metric: "host_cpu_us_per_sample",
      unit: "us",
      troupe: round1((f.cpuRound * 1000) / channels),
      baseline: Math.round(f.floorUs * 100) / 100,
      better: "lower",
      reference: "the anomaly kernel alone",
    }),
  ];
}

/**
 * Lags from a round's send to the anomaly outputs of `watched` channels for its samples, each
 * channel's subject subscribed to on its own: a subscription to every channel's would have
 * nats-server copy 100,000 outputs a round to the bench, on the cores the host is measured on.
 */
function watchLags(
  nc: NatsConnection,
  watched: Set<string>,
  sentAt: Map<number, { round: number; at: number }>,
  lag: (round: number, ms: number) => void,
): { unsubscribe(): void } {
  const subs = [...watched].map((channel) =>
    nc.subscribe(outSubject("anomaly", channel), {
      callback: (_e, m) => {
        const ts = readTs(m.data);
        const sent = ts === undefined ? undefined : sentAt.get(Math.round(ts / 1000));
        if (sent !== undefined) lag(sent.round, performance.now() - sent.at);
      },
    })
  );
  return { unsubscribe: () => subs.forEach((s) => s.unsubscribe()) };
}

/**
 * Milliseconds the detector run's host has to stop (it applies what is queued and snapshots what
 * pays, and a profile asked for is written as it exits) before it is given up, and to start again
 * and answer: 2 minutes, and 3 ms a channel past 40,000 (a host's recovery is linear in its
 * instances and inputs: 100,000 channels have 5 minutes), so that a large run gives the figures
 * rather than a timeout.
 */
function hostStopMs(channels: number): number {
  return Math.max(120_000, channels * 3);
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
