/**
 * `troupe bench pipeline`: end-to-end throughput of the cluster. An injector process
 * (`bench/_injector.ts`) publishes frames of `--batch` samples over `--channels` channels through
 * a nats-server this benchmark starts, to a host in this process running one actor kind on every
 * channel, with a file journal (fsync every 100 ms) and file snapshots in a temporary directory.
 * The figure is the samples the host applied per second in steady state (after a warm-up); the
 * baseline is the same injector feeding a plain nats.js subscriber that only counts, measured in
 * the same run. Both receivers hand the injector the same credits, so neither is overrun. The
 * host's peak resident memory is reported too: the peak of this process (which holds the host and
 * nothing else of size) up to the end of the first round's host phase.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import process from "node:process";
import { launchHost } from "../actors/runtime/launch_host.ts";
import { defaultHostConfig } from "../actors/runtime/host_config.ts";
import type { NatsServer } from "../actors/runtime/nats_server.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import {
  actorKind,
  ChildScript,
  cpuMeter,
  human,
  median,
  numberOption,
  parseOptions,
  rssNowMb,
  rssPeakMb,
  sleep,
  startBenchNats,
  tempDir,
} from "./_cluster.ts";

const NAME = "pipeline";
const FEED = "bench";
const CREDIT_SUBJECT = "bench.pipeline.credit";

/** What one measured phase gives. */
interface PhaseResult {
  samplesPerS: number;
}

/** Settings of a run. */
interface PipelineSettings {
  kind: string;
  channels: number;
  batch: number;
  seconds: number;
  warmupS: number;
  window: number;
}

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "samples/s from an injector process through nats-server to a host running an actor on every channel, against raw nats.js publish→subscribe of the same frames",
  usage: [
    "  --actor KIND     actor kind run on every channel (default stats)",
    "  --channels N     channels (default 64)",
    "  --batch N        samples per frame (default 500)",
    "  --seconds S      measured seconds per phase, after the warm-up (default 3)",
    "  --warmup S       warm-up seconds per phase, not measured (default 1)",
    "  --window N       frames in flight between injector and receiver (default 512)",
    "  --rounds N       troupe/raw rounds, interleaved; the median of each is reported (default 2)",
  ].join("\n"),
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = parseOptions(args, {
      actor: { type: "string" },
      channels: { type: "string" },
      batch: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      window: { type: "string" },
      rounds: { type: "string" },
    });
    const def = actorKind(o.actor ?? "stats");
    const settings: PipelineSettings = {
      kind: def.kind,
      channels: numberOption(o, "channels", 64, { min: 1, max: 100_000, integer: true }),
      batch: numberOption(o, "batch", 500, { min: 1, max: 65_536, integer: true }),
      seconds: numberOption(o, "seconds", 3, { min: 0.1, max: 3600 }),
      warmupS: numberOption(o, "warmup", 1, { min: 0, max: 600 }),
      window: numberOption(o, "window", 512, { min: 1, max: 1_000_000, integer: true }),
    };
    const rounds = numberOption(o, "rounds", 2, { min: 1, max: 20, integer: true });

    const nats = await startBenchNats(NAME);
    const control = await connect({ servers: nats.url, name: "troupe-bench-control" });
    const troupe: number[] = [];
    const raw: number[] = [];
    let rssMb = NaN;
    try {
      for (let r = 0; r < rounds; r++) {
        const t = await hostPhase(nats, control, settings, ctx, r === 0);
        troupe.push(t.result.samplesPerS);
        // The first round's host has the process to itself; later ones inherit its heap.
        if (r === 0) rssMb = t.rssMb;
        ctx.log(
          `${NAME}: troupe (${settings.kind} on ${settings.channels} channels): ${
            human(t.result.samplesPerS)
          } samples/s, host peak RSS ${t.rssMb.toFixed(1)} MB`,
        );
        const b = await rawPhase(nats, control, settings, ctx);
        raw.push(b.samplesPerS);
        ctx.log(
          `${NAME}: raw nats.js subscriber: ${human(b.samplesPerS)} samples/s (round ${
            r + 1
          } ratio ${(t.result.samplesPerS / b.samplesPerS).toFixed(3)})`,
        );
      }
    } finally {
      await control.close();
      await nats.stop();
    }
    return [
      row(NAME, "samples_per_s", "samples/s", median(troupe), median(raw), "higher"),
      row(NAME, "host_rss_mb", "MB", rssMb, null, "lower"),
    ];
  },
};

/** Feeds a host running the actor on every channel; returns its steady rate and peak RSS. */
async function hostPhase(
  nats: NatsServer,
  control: NatsConnection,
  s: PipelineSettings,
  ctx: BenchContext,
  first: boolean,
): Promise<{ result: PhaseResult; rssMb: number }> {
  const dir = tempDir("troupe-bench-pipeline-");
  const config = defaultHostConfig();
  config.host_id = "bench-host";
  config.nats = nats.url;
  config.data_dir = dir.path;
  config.journal = { kind: "file", fsync: "interval", fsync_interval_ms: 100 };
  config.snapshots = { store: "file", every_inputs: 1000, every_ms: 5000 };
  config.actors = { [s.kind]: {} };
  const def = actorKind(s.kind);
  let peak = rssNowMb();
  const sampler = setInterval(() => (peak = Math.max(peak, rssNowMb())), 50);
  const launched = await launchHost(config, { [s.kind]: def }, {
    log: (m) => ctx.log(`host: ${m}`),
  });
  try {
    const applied = () => launched.host.applied.get(s.kind) ?? 0;
    const result = await feed(nats, control, s, applied, ctx);
    // In the first round, the process's peak so far covers start-up and this phase: all of it
    // is the host's. In later rounds only the samples taken during the phase count.
    peak = Math.max(peak, rssNowMb(), first ? rssPeakMb() ?? 0 : 0);
    return { result, rssMb: peak };
  } finally {
    clearInterval(sampler);
    await launched.close();
    dir.remove();
  }
}

/** Feeds a plain nats.js subscriber that counts the frames. */
async function rawPhase(
  nats: NatsServer,
  control: NatsConnection,
  s: PipelineSettings,
  ctx: BenchContext,
): Promise<PhaseResult> {
  const nc = await connect({ servers: nats.url, name: "troupe-bench-raw" });
  let frames = 0;
  const sub = nc.subscribe(`troupe.feed.${FEED}.>`, { callback: () => void frames++ });
  await nc.flush();
  try {
    return await feed(nats, control, s, () => frames, ctx);
  } finally {
    sub.unsubscribe();
    await nc.close();
  }
}

/**
 * Runs the injector against a receiver whose consumed-frame count is `consumed()`: credits it
 * as frames are consumed, waits out the warm-up, then measures frames consumed over `seconds`.
 */
async function feed(
  nats: NatsServer,
  control: NatsConnection,
  s: PipelineSettings,
  consumed: () => number,
  ctx: BenchContext,
): Promise<PhaseResult> {
  let credited = -1;
  const credit = setInterval(() => {
    const n = consumed();
    if (n !== credited) {
      credited = n;
      control.publish(CREDIT_SUBJECT, String(n));
    }
  }, 1);
  const injector = ChildScript.start("bench/_injector.ts", [
    "--mode",
    "throughput",
    "--nats",
    nats.url,
    "--feed",
    FEED,
    "--channels",
    String(s.channels),
    "--batch",
    String(s.batch),
    "--window",
    String(s.window),
    "--credit",
    CREDIT_SUBJECT,
  ], ctx.log);
  try {
    const ready = await injector.next(60_000);
    if (ready.ready !== true) throw new Error(`injector said ${JSON.stringify(ready)}, not ready`);
    await sleep(s.warmupS * 1000);
    const cpu = cpuMeter({
      receiver: process.pid,
      injector: injector.pid,
      "nats-server": nats.pid,
    });
    const c0 = consumed(), t0 = nowMs();
    await sleep(s.seconds * 1000);
    const c1 = consumed(), t1 = nowMs();
    ctx.log(`${NAME}: CPU while measured: ${cpu()}`);
    injector.send("stop");
    const done = await injector.next(30_000);
    await injector.wait();
    if (c1 === c0) {
      throw new Error(
        `${NAME}: the receiver consumed no frame in ${s.seconds} s (the injector published ${done.published})`,
      );
    }
    return { samplesPerS: ((c1 - c0) * s.batch) / ((t1 - t0) / 1000) };
  } finally {
    clearInterval(credit);
    await injector.kill();
  }
}
