/**
 * The benchmarks' injector: a child process that feeds sample frames over NATS, so that the
 * process under test (a host, or a plain subscriber) does nothing but receive. The same code feeds
 * troupe and its baseline in each benchmark. It speaks JSON lines on stdout.
 *
 * `--mode throughput` (bench pipeline): frames go round-robin over `--channels` channels, `--batch`
 * samples each (a seeded random walk with spikes, times 1 ms apart), to `<prefix>.<channel>`, as
 * fast as the receiver keeps up. The benchmark sets the prefix on `--control` ("<epoch> <prefix>"),
 * which is how it switches between troupe's host and the raw subscriber without restarting
 * anything; flow control is by grants on `--credit` ("<epoch> <n>": n more frames may be sent),
 * which the receiver hands out as it consumes frames, so a slower receiver slows the injector
 * instead of piling frames up in nats-server until it cuts the receiver off as a slow consumer.
 * Grants of an old epoch are ignored. Prints `{"ready":true}` once connected; on the stdin line
 * `stop` it stops, flushes, prints `{"published":<frames>,...}`, exits.
 *
 * `--mode latency` (bench latency): one process, and one sender thread in it, for every phase of
 * a run, each phase's settings a stdin line (`_latency_phases.ts`, which says what it prints);
 * frames go to `--feed`'s channels l0 .. l<channels - 1>.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import process from "node:process";
import { createInterface } from "node:readline";
import { setImmediate } from "node:timers";
import { checkName, encodeFrame, type SampleFrame } from "../protocol/mod.ts";
import { Prng } from "../sim/prng/mod.ts";
import { servePhases } from "./_latency_phases.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { cpuPercent } from "./_process_usage.ts";

/** The injector's options; a bad one ends the child with an error naming it. */
const OPTIONS = {
  mode: {
    help: "what to feed",
    arg: "throughput|latency",
    default: "throughput",
    oneOf: ["throughput", "latency"] as const,
  },
  nats: { help: "nats-server URL (required)", arg: "URL" },
  feed: { help: "the feed's name in its subjects", arg: "NAME", default: "bench" },
  channels: { help: "channels", default: 64, number: { min: 1, integer: true } },
  batch: {
    help: "samples per frame (throughput)",
    default: 500,
    number: { min: 1, integer: true },
  },
  credit: { help: "subject of the receiver's grants", arg: "SUBJECT", default: "bench.credit" },
  control: {
    help: "subject of the prefix to publish to",
    arg: "SUBJECT",
    default: "bench.control",
  },
  seed: { help: "the walk's seed", default: 1, number: { integer: true } },
} satisfies OptionTable;

const values = readOptions(process.argv.slice(2), OPTIONS);

/** A channel of the walk: its name, the next frame's first sequence number and pool offset. */
interface WalkChannel {
  name: string;
  seq: number;
  offset: number;
  t: Float64Array;
}

/**
 * The frames `throughput` sends: one seeded random walk with spikes, read by each channel from its
 * own offset, `batch` samples a frame, times 1 ms apart.
 */
class WalkFrames {
  readonly channels: WalkChannel[] = [];
  #pool: Float64Array;
  #batch: number;
  #t0Us: number;

  constructor(seed: number, channels: number, batch: number) {
    const prng = new Prng(seed);
    const poolLength = Math.max(1 << 17, batch * 4);
    const pool = new Float64Array(poolLength);
    for (let i = 0, x = 100; i < poolLength; i++) {
      x += prng.normal() * 0.1;
      pool[i] = prng.chance(0.001) ? x + prng.normal() * 5 : x;
    }
    this.#pool = pool;
    this.#batch = batch;
    this.#t0Us = Math.round(Date.now() * 1000);
    for (let c = 0; c < channels; c++) {
      const name = checkName(`c${String(c).padStart(5, "0")}`);
      const offset = prng.int(poolLength - batch);
      this.channels.push({ name, seq: 0, offset, t: new Float64Array(batch) });
    }
  }

  /** The next frame of `ch`, encoded into a fresh buffer (safe to hand to publish). */
  next(ch: WalkChannel): Uint8Array {
    const batch = this.#batch;
    const { t } = ch;
    const base = this.#t0Us + ch.seq * 1000;
    for (let i = 0; i < batch; i++) t[i] = base + i * 1000;
    if (ch.offset + batch > this.#pool.length) ch.offset = 0;
    const frame: SampleFrame = {
      channel: ch.name,
      seq0: ch.seq,
      t,
      v: this.#pool.subarray(ch.offset, ch.offset + batch),
    };
    const bytes = encodeFrame(frame, { id: `inj:${ch.name}:${ch.seq}`, src: "injector" });
    ch.seq += batch;
    ch.offset += batch;
    return bytes;
  }
}

/**
 * What the receiver says to `throughput`. Control: "<epoch> <prefix>" starts sending to
 * <prefix>.<channel> with no frames granted; grants: "<epoch> <n>" allow n more frames, and count
 * only for the current epoch; the stdin line `stop` (or its end) stops it.
 */
class ReceiverFlow {
  /** The subject of each channel, once a prefix is set. */
  subjects: string[] | undefined;
  /** The frames granted and not yet sent. */
  allowance = 0;
  stopping = false;
  #epoch = -1;
  #wake: (() => void) | undefined;
  #decoder = new TextDecoder();

  constructor(nc: NatsConnection, names: readonly string[]) {
    nc.subscribe(values.control, {
      callback: (_err, msg) => {
        const [e, prefix] = this.#parse(msg.data);
        this.#epoch = e;
        this.subjects = names.map((name) => `${prefix}.${name}`);
        this.allowance = 0;
        this.#wakeUp();
      },
    });
    nc.subscribe(values.credit, {
      callback: (_err, msg) => {
        const [e, n] = this.#parse(msg.data);
        if (e === this.#epoch) this.allowance += Number(n);
        this.#wakeUp();
      },
    });
    createInterface({ input: process.stdin }).on("line", (line) => {
      if (line.trim() === "stop") {
        this.stopping = true;
        this.#wakeUp();
      }
    });
    process.stdin.on("end", () => {
      this.stopping = true;
      this.#wakeUp();
    });
  }

  /** Resolves on the next control, grant or stop, or after 50 ms: a lost grant must not hang. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      setTimeout(() => this.#wakeUp(), 50);
    });
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #parse(data: Uint8Array): [number, string] {
    const text = this.#decoder.decode(data);
    const space = text.indexOf(" ");
    return [Number(text.slice(0, space)), text.slice(space + 1)];
  }
}

/**
 * Publishes frames as fast as the receiver's grants allow, to the subject prefix last set on the
 * control subject, until `stop`.
 */
async function throughput(nc: NatsConnection): Promise<void> {
  const frames = new WalkFrames(values.seed, values.channels, values.batch);
  const { channels } = frames;
  const flow = new ReceiverFlow(nc, channels.map((ch) => ch.name));
  await nc.flush();
  console.log(JSON.stringify({ ready: true }));

  let published = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (!flow.stopping) {
    // Publish what is granted, yielding now and then so grants, control and `stop` get through.
    let burst = 0;
    while (flow.subjects && flow.allowance > 0 && burst < 64) {
      nc.publish(flow.subjects[next]!, frames.next(channels[next]!));
      next = next + 1 === channels.length ? 0 : next + 1;
      flow.allowance--;
      published++;
      burst++;
    }
    if (!flow.subjects || flow.allowance <= 0) await flow.wait();
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await nc.flush();
  console.log(JSON.stringify({
    published,
    samples: published * values.batch,
    cpu_pct: cpuPercent(cpu0, performance.now() - t0),
  }));
}

if (!values.nats) throw new Error("_injector.ts needs --nats <url>");
const nc = await connect({ servers: values.nats, name: `troupe-bench-injector-${values.mode}` });
if (values.mode === "throughput") await throughput(nc);
else if (values.mode === "latency") {
  await servePhases(nc, { nats: values.nats, feed: values.feed, channels: values.channels });
} else throw new Error(`_injector.ts: unknown --mode "${values.mode}"`);
await nc.close();
// Exit once stdout is written out: a pipe is asynchronous, and a long last line would be cut.
process.stdout.write("", () => process.exit(0));
