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
 * the kinds a host fed metrics runs by default (`--bars` and `--stats` add those kinds; a sample a
 * channel every `--detect-interval-s`, 15 s as Prometheus usually scrapes, each 2,000 series a
 * target whose scrapes are spread over the interval as Prometheus spreads them: `--detect-shape`),
 * `rss_mb_per_1k_channels` and `detect_lag_ms_p99` (from a request's first send, retried as
 * Prometheus retries a 5xx, to the anomaly detector's output for its samples); its log line also
 * says the requests' times to their answers while the host is loaded with the detectors. Then that
 * host is stopped cleanly and started again on its data directory: `host_stop_s` and
 * `host_start_s` (until every instance is recovered and a new sample answered) against the lease
 * TTL a leased host has by default.
 */
import { join } from "node:path";
import { NatsServer } from "../actors/runtime/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, percentile, row } from "./_bench.ts";
import { type OptionTable, type OptionValues, readOptions } from "./_option_table.ts";
import { ChildScript } from "./_child_script.ts";
import { requestBody, shardLabels } from "./_remote_write_requests.ts";
import { tempDir } from "./_temp_dir.ts";
import { sleep } from "./_sleep.ts";
import { send } from "./_remote_write_send.ts";
import {
  needVictoriaMetrics,
  startVictoriaMetrics,
  type VictoriaMetrics,
} from "./_victoria_metrics.ts";
import { detectRun } from "./_remote_write_detect.ts";
import { processCpuMs } from "./_process_usage.ts";

const NAME = "remote-write";

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
    help: "active channels of the detector run and the host's stop and start (0: skip them)",
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
  bars: {
    help: "the detector run's host runs bars too (a kind for markets, which a host fed metrics " +
      "runs only where its config asks)",
    flag: true,
  },
  stats: {
    help: "the detector run's host runs stats too (a kind for markets, as bars)",
    flag: true,
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
    "memory, detector lag, and the host's stop and start at 10,000 channels",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    needVictoriaMetrics(NAME);
    const dir = tempDir("troupe-bench-rw-");
    const nats = await NatsServer.start({ storeDir: join(dir.path, "js") });
    let vm: VictoriaMetrics | undefined;
    let receiver: ChildScript | undefined;
    const rows: BenchRow[] = [];
    try {
      vm = await startVictoriaMetrics(join(dir.path, "vm"));
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
          url: `${vm.url}/api/v1/write`,
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
      // The detector run's host is measured with nothing of the rounds left running on the
      // machine: VictoriaMetrics goes on merging what it took, and the rounds' nats-server holds
      // their stream.
      await vm.stop();
      vm = undefined;
      await nats.stop();
      if (o.channels > 0) rows.push(...await detectRows(dir.path, o, ctx));
      return rows;
    } finally {
      await receiver?.kill();
      await vm?.stop();
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
      bars: o.bars,
      stats: o.stats,
    }, ctx);
  } finally {
    await detectNats.stop();
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
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
