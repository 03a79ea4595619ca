/**
 * `troupe bench gateway`: how fast the stream gateway relays what the actors publish to many
 * WebSocket clients, against raw nats.js fan-out to the same number of subscribers, in the same
 * run; and the gateway's memory with one client that never reads.
 *
 * - `events_per_s`: a publisher sends `--messages` anomaly events (real envelopes, ~170 bytes) on
 *   `troupe.out.anomaly.*` as fast as NATS takes them; the figure is messages / the time until
 *   every one of `--clients` clients holds every message. troupe: StreamClients (over `ws`,
 *   decoding every frame) subscribed to `troupe.out.>` through a gateway running in a process of
 *   its own; baseline: as many nats.js connections, each subscribed to `troupe.out.>` (nats-server
 *   does the fan-out). Both sides' clients run in `--client-procs` child processes of their own
 *   (bench/_gateway_clients.ts), apart from the publisher and the gateway.
 * - `rss_mb_stalled_client`: the gateway process's peak resident memory while `--stall-mb` MiB of
 *   1 KiB messages pass through it to `--stall-clients` reading clients plus one raw client that
 *   subscribes and then never reads; baseline: the same run without the stalled client. Equal
 * figures mean the stalled
 *   client costs nothing beyond its socket's bound.
 *
 * Rounds alternate which side goes first; each figure is the median over `--rounds`, and the log
 * gives every round's figure.
 */
import { readFileSync } from "node:fs";
import { connect as tcpConnect, type Socket } from "node:net";
import process from "node:process";
import { NatsBus, type NatsServer } from "../actors/runtime/mod.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { Keyring, mintToken } from "../collab/mod.ts";
import {
  areaPattern,
  encodeEventEnvelope,
  encodeStreamClientMessage,
  outSubject,
} from "../protocol/mod.ts";
import { type Benchmark, type BenchRow, row } from "./_bench.ts";
import { startBenchNats } from "./_bench_nats.ts";
import { ChildScript } from "./_child_script.ts";
import { tempDir } from "./_temp_dir.ts";
import { median } from "./_median.ts";

const NAME = "gateway";
const SECRET = "troupe-bench-gateway-secret";

interface Settings {
  clients: number;
  /** Child processes the clients of either side run in. */
  clientProcs: number;
  messages: number;
  rounds: number;
  stallMb: number;
  stallClients: number;
}

function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Receiving clients in `procs` child processes (bench/_gateway_clients.ts), `n` in all. */
class ClientProcs {
  readonly #children: ChildScript[];
  private constructor(children: ChildScript[]) {
    this.#children = children;
  }

  static async start(
    kind: "stream" | "nats",
    target: string,
    o: { n: number; procs: number; count: number },
    log: (m: string) => void,
  ): Promise<ClientProcs> {
    const procs = Math.min(o.procs, o.n);
    const children = Array.from({ length: procs }, (_, i) => {
      const n = Math.floor(o.n / procs) + (i < o.n % procs ? 1 : 0);
      return ChildScript.start(
        "bench/_gateway_clients.ts",
        [kind, target, String(n), String(o.count), SECRET],
        log,
      );
    });
    const c = new ClientProcs(children);
    try {
      for (const child of children) await child.next(120_000);
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  /** The wall clock (ms) when the last client got its last message. */
  async done(timeoutMs: number): Promise<number> {
    let last = 0;
    for (const child of this.#children) {
      const m = await child.next(timeoutMs).catch(async (err) => {
        let held = 0, missed = 0;
        for (const c of this.#children) {
          c.send("held");
          const m = await c.next(5_000).catch(() => ({ held: NaN, missed: NaN }));
          held += Number(m.held);
          missed += Number(m.missed);
        }
        throw new Error(
          `${(err as Error).message} (the clients hold ${held}; gap notices say ${missed} missed)`,
        );
      });
      last = Math.max(last, Number(m.done_ms));
    }
    return last;
  }

  async close(): Promise<void> {
    await Promise.all(this.#children.map(async (child) => {
      child.send("stop");
      await child.wait(10_000).catch(() => child.kill());
    }));
  }
}

/** Publishes `count` copies of `payload` on 16 channels, flushing every 500. */
async function publish(
  pub: NatsBus,
  count: number,
  payload: (i: number) => Uint8Array,
): Promise<void> {
  const subjects = Array.from({ length: 16 }, (_, c) => outSubject("anomaly", `C${c}`));
  for (let i = 0; i < count; i++) {
    pub.publish(subjects[i % 16]!, payload(i));
    // nats.js's own flush: the bus's has a 2 s timeout, which a loaded machine can exceed.
    if (i % 500 === 499) await pub.nc.flush();
  }
  await pub.nc.flush();
}

function anomalyEvent(i: number): Uint8Array {
  const ts = 1_800_000_000_000_000 + i * 1000;
  return encodeEventEnvelope({ id: `bench-${i}`, type: "anomaly", src: "bench", ts }, {
    type: "anomaly",
    ts,
    channel: `C${i % 16}`,
    score: 0.93,
    value: 105.25,
    expected: 100.5,
    lower: 98.125,
    upper: 102.875,
  });
}

/** A raw WebSocket client that subscribes to everything and then never reads again. */
function stalledClient(port: number, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.on("error", reject);
    socket.write(
      `GET /stream?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    );
    socket.once("data", (head) => {
      if (!head.toString().startsWith("HTTP/1.1 101")) return reject(new Error(`${head}`));
      const body = encodeStreamClientMessage({ op: "sub", id: 1, subjects: [areaPattern("out")] });
      // A masked binary frame with a zero mask: the payload goes as it is.
      socket.write(new Uint8Array([0x82, 0x80 | body.length, 0, 0, 0, 0, ...body]));
      setTimeout(() => {
        socket.pause();
        resolve(socket);
      }, 200);
    });
  });
}

interface Side {
  eventsPerS: number;
  rssMb: number;
}

/** One relay round through a gateway process (or, `nats`, straight from nats-server). */
async function relayRound(
  kind: "troupe" | "nats" | "stalled" | "unstalled",
  nats: NatsServer,
  s: Settings,
  log: (m: string) => void,
): Promise<Side> {
  const stall = kind === "stalled" || kind === "unstalled";
  const count = stall ? Math.round((s.stallMb * (1 << 20)) / 1024) : s.messages;
  const payload = stall
    ? (() => {
      const bytes = new Uint8Array(1024).map((_, i) => (i * 131) & 0xff);
      return () => bytes;
    })()
    : anomalyEvent;
  const dir = tempDir("troupe-bench-gateway-");
  const server = kind === "nats"
    ? undefined
    : ChildScript.start("bench/_gateway_server.ts", [nats.url, dir.path], log);
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(server?.pid) || 0)), 50);
  const pub = await NatsBus.connect(nats.url, { name: "bench-publisher" });
  let receivers: ClientProcs | undefined;
  let stalled: Socket | undefined;
  try {
    const clients = { n: stall ? s.stallClients : s.clients, procs: s.clientProcs, count };
    if (server) {
      const { port } = await server.next(60_000) as { port: number };
      receivers = await ClientProcs.start("stream", String(port), clients, log);
      if (kind === "stalled") {
        const ring = await Keyring.fromSecrets([new TextEncoder().encode(SECRET)]);
        const token = await mintToken(ring, {
          session: "b",
          role: "viewer",
          ttlS: 600,
          nowMs: Date.now(),
        });
        stalled = await stalledClient(port, token);
      }
    } else receivers = await ClientProcs.start("nats", nats.url, clients, log);
    const t0 = performance.timeOrigin + performance.now();
    await publish(pub, count, payload);
    const elapsedS = (await receivers.done(60_000) - t0) / 1000;
    if (server) {
      server.send("stats");
      const st = await server.next(10_000);
      log(
        `${kind}: gateway relayed ${st.relayed}, buffer ${
          (Number(st.buffer_bytes) / 1048576).toFixed(1)
        } MiB, ` +
          `most queued on one socket ${
            (Number(st.client_buffered_bytes_max) / 1048576).toFixed(1)
          } MiB, ` +
          `dropped for slowness ${st.dropped_slow}`,
      );
    }
    return { eventsPerS: count / elapsedS, rssMb: rssMax };
  } finally {
    clearInterval(sampler);
    stalled?.destroy();
    await receivers?.close();
    await pub.close().catch(() => {});
    if (server) {
      server.send("stop");
      await server.wait(10_000).catch(() => server.kill());
    }
    dir.remove();
  }
}

const OPTIONS = {
  clients: {
    help: "clients (WebSocket) and subscribers (NATS)",
    default: 100,
    number: { min: 1, max: 1000, integer: true },
  },
  "client-procs": {
    help: "child processes the clients of either side run in",
    default: 2,
    number: { min: 1, max: 16, integer: true },
  },
  messages: {
    help: "events published per relay round",
    default: 5_000,
    number: { min: 100, integer: true },
  },
  "stall-mb": {
    help: "MiB of 1 KiB messages in each memory round",
    default: 24,
    number: { min: 1, max: 1024 },
  },
  "stall-clients": {
    help: "reading clients beside the stalled one in memory rounds",
    default: 10,
    number: { min: 1, max: 1000, integer: true },
  },
  rounds: {
    help: "rounds, alternating which side goes first; medians reported",
    default: 3,
    number: { min: 1, integer: true },
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "events/s from NATS to 100 WebSocket clients through the stream gateway vs raw nats.js " +
    "fan-out to 100 subscribers; gateway RSS with one stalled client",
  options: OPTIONS,
  async run(args, context) {
    const o = readOptions(args, OPTIONS);
    const s: Settings = {
      clients: o.clients,
      clientProcs: o["client-procs"],
      messages: o.messages,
      stallMb: o["stall-mb"],
      stallClients: o["stall-clients"],
      rounds: o.rounds,
    };
    const log = (m: string) => context.log(m);
    process.env.TROUPE_SECRET = SECRET; // the gateway child reads it
    process.setMaxListeners(0);
    const nats = await startBenchNats(NAME);
    const got = new Map<string, Side[]>();
    try {
      for (let r = 0; r < s.rounds; r++) {
        const relay = r % 2 === 0 ? ["troupe", "nats"] as const : ["nats", "troupe"] as const;
        const memory = r % 2 === 0
          ? ["stalled", "unstalled"] as const
          : ["unstalled", "stalled"] as const;
        for (const kind of [...relay, ...memory]) {
          const side = await relayRound(kind, nats, s, log);
          log(
            `round ${r + 1} ${kind}: ${
              Math.round(side.eventsPerS)
            } events/s to each of ${s.clients}` +
              (kind === "nats" ? "" : `, gateway RSS peak ${side.rssMb.toFixed(0)} MB`),
          );
          got.set(kind, [...(got.get(kind) ?? []), side]);
        }
      }
    } finally {
      await nats.stop();
    }
    return rowsOf(got);
  },
};

function rowsOf(got: Map<string, Side[]>): BenchRow[] {
  const fig = (kind: string, f: (x: Side) => number) => median((got.get(kind) ?? []).map(f));
  return [
    row({
      bench: NAME,
      metric: "events_per_s",
      unit: "events/s",
      troupe: fig("troupe", (x) => x.eventsPerS),
      baseline: fig("nats", (x) => x.eventsPerS),
      better: "higher",
      reference: "raw nats.js fan-out",
    }),
    row({
      bench: NAME,
      metric: "rss_mb_stalled_client",
      unit: "MB",
      troupe: fig("stalled", (x) => x.rssMb),
      baseline: fig("unstalled", (x) => x.rssMb),
      better: "lower",
      reference: "the same gateway, no stalled client",
    }),
  ];
}
