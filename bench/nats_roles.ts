/**
 * `troupe bench nats_roles`: what troupe's least privilege costs the NATS server. A host reads its
 * feed from a JetStream stream, and every delivery carries a reply subject (its ack subject); a
 * user whose permissions take NATS's `allow_responses` makes nats-server (2.9) keep each of those
 * subjects and, past 4,096, walk them all on every delivery, so the server's CPU a delivery grows
 * with the deliveries. The figure is nats-server's CPU (user + system, from /proc) a message
 * delivered to a host's feed input (`jetStreamInput`, as `troupe run` reads it) on a server whose
 * users are troupe's roles (actors/runtime/transport/nats_roles.ts), the host's connection as the
 * `host` user; the baseline is the same on a server without users. Each arm publishes the same
 * `--messages` frames to the feed stream first (not counted), then reads them all.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import {
  ensureFeedStream,
  jetStreamInput,
  natsAuthOptions,
  natsAuthorizationConfig,
  NatsServer,
} from "../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../protocol/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { readOptions } from "./_option_table.ts";
import { requireNatsServer } from "./_bench_nats.ts";
import { processCpuMs } from "./_process_usage.ts";
import { tempDir } from "./_temp_dir.ts";

const NAME = "nats_roles";

const OPTIONS = {
  messages: {
    help: "feed frames published, then delivered to the host's input, in each arm",
    default: 20_000,
    number: { min: 1000, max: 1_000_000, integer: true },
  },
  channels: {
    help: "channels the frames are spread over",
    default: 64,
    number: { min: 1, max: 100_000, integer: true },
  },
} as const;

/** The host user's password in the arm with users (a bench's own server, on loopback). */
const HOST_PASSWORD = "bench-host";

export const benchmark: Benchmark = {
  name: NAME,
  summary: "nats-server CPU a feed delivery to a host under troupe's NATS roles, against no users",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { messages, channels } = readOptions(args, OPTIONS);
    requireNatsServer(NAME);
    const dir = tempDir("troupe-bench-nats-roles-");
    try {
      const conf = join(dir.path, "roles.conf");
      writeFileSync(
        conf,
        natsAuthorizationConfig([
          { role: "host", credential: { user: "host", password: HOST_PASSWORD } },
        ]),
      );
      const roles = await arm(
        { args: ["-c", conf], storeDir: join(dir.path, "roles") },
        { user: "host", password: HOST_PASSWORD },
        { messages, channels },
      );
      ctx.log(`${NAME}: troupe's roles: ${describe(roles, messages)}`);
      const open = await arm({ storeDir: join(dir.path, "open") }, {}, { messages, channels });
      ctx.log(`${NAME}: no users: ${describe(open, messages)}`);
      const perMessage = (ms: number) => (ms * 1000) / messages;
      return [
        cpuRow("nats_cpu_us_per_delivery", perMessage(roles.readCpuMs), perMessage(open.readCpuMs)),
        cpuRow(
          "nats_cpu_us_per_publish",
          perMessage(roles.publishCpuMs),
          perMessage(open.publishCpuMs),
        ),
      ];
    } finally {
      dir.remove();
    }
  },
};

/** A row of nats-server's CPU a message, µs: with troupe's roles, and without users. */
function cpuRow(metric: string, troupe: number, baseline: number): BenchRow {
  return row({
    bench: NAME,
    metric,
    unit: "us",
    troupe,
    baseline,
    better: "lower",
    reference: "the same server without users",
  });
}

interface ArmFigures {
  publishCpuMs: number;
  readCpuMs: number;
  readMs: number;
}

function describe(f: ArmFigures, messages: number): string {
  return `nats-server CPU ${f.publishCpuMs} ms publishing ${messages} frames, ${f.readCpuMs} ms ` +
    `delivering them to the host's input in ${f.readMs.toFixed(0)} ms`;
}

/** One arm: a server of `server`'s options, the host connecting with `auth`. */
async function arm(
  server: { args?: string[]; storeDir: string },
  auth: { user?: string; password?: string },
  o: { messages: number; channels: number },
): Promise<ArmFigures> {
  const nats = await NatsServer.start(server);
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: nats.url, name: "bench-host", ...natsAuthOptions(auth) });
    const input = jetStreamInput(nc);
    // The feed stream made as a host makes it, then filled.
    await ensureFeedStream(nc);
    const cpu0 = processCpuMs(nats.pid) ?? NaN;
    await publishFrames(nc, o);
    const cpu1 = processCpuMs(nats.pid) ?? NaN;
    const t0 = performance.now();
    let delivered = 0;
    await new Promise<void>((resolve, reject) => {
      input.start(() => {
        if (++delivered === o.messages) resolve();
      }, 0).catch(reject);
    });
    const readMs = performance.now() - t0;
    const cpu2 = processCpuMs(nats.pid) ?? NaN;
    await input.stop();
    return { publishCpuMs: cpu1 - cpu0, readCpuMs: cpu2 - cpu1, readMs };
  } finally {
    await nc?.close().catch(() => {});
    await nats.stop();
    rmSync(server.storeDir, { recursive: true, force: true });
  }
}

/** `messages` one-sample frames over `channels` channels, published to the feed stream. */
async function publishFrames(
  nc: NatsConnection,
  o: { messages: number; channels: number },
): Promise<void> {
  const js = jetstream(nc);
  const WINDOW = 256;
  let pending: Promise<unknown>[] = [];
  for (let i = 0; i < o.messages; i++) {
    const channel = `c${i % o.channels}`;
    const t = new Float64Array([1_700_000_000_000_000 + i * 1000]);
    const frame = encodeFrame({ channel, seq0: i, t, v: new Float64Array([i % 97]) }, {
      id: `bench-${i}`,
      src: "bench",
    });
    pending.push(js.publish(feedSubject("bench", channel), frame));
    if (pending.length === WINDOW) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
}
