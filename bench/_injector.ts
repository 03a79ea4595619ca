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
 * `--mode latency` (bench latency): a sender thread publishes one-sample frames at `--rate` per
 * second for `--warmup` seconds, waits until they are all answered (up to 10 s), then for
 * `--seconds` seconds more, evenly spaced (it sleeps between frames), while the main thread
 * times the answers: with `--answers PATTERN`, actor outputs matched to their frame by `cause`;
 * with `--raw SUBJECT`, the messages themselves, published on SUBJECT with the send time in their
 * first 8 bytes (raw one-way latency; with `--raw-answers`, timed where a relay republishes them,
 * two hops as a troupe frame takes). The two threads' clocks are related by a spin handshake
 * before the first frame. Prints `{"measuring":true}` as the measured frames start (so that the
 * receiver's CPU can be counted over them), then
 * `{"latencies_us":[...sorted...],"lost":n,"sent_per_s":r,"cpu_pct":c}`.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import process from "node:process";
import { createInterface } from "node:readline";
import { setImmediate } from "node:timers";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { startWorker } from "../actors/threads/mod.ts";
import {
  checkName,
  decodeEnvelope,
  encodeFrame,
  feedSubject,
  type SampleFrame,
} from "../protocol/mod.ts";
import { Prng } from "../sim/prng/mod.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { FrameTimeline } from "./_frame_timeline.ts";
import { LoopGaps } from "./_loop_gaps.ts";
import { stallTimeline } from "./_stall_timeline.ts";

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
  rate: { help: "frames per second (latency)", default: 10_000, number: { min: 1 } },
  seconds: { help: "measured seconds (latency)", default: 3, number: { min: 0 } },
  warmup: { help: "unmeasured seconds first (latency)", default: 0.5, number: { min: 0 } },
  answers: { help: "subject of the actor outputs answering the frames (latency)", arg: "PATTERN" },
  raw: { help: "subject to publish on and time the messages themselves (latency)", arg: "SUBJECT" },
  "raw-answers": {
    help: "with --raw, time the messages where a relay republishes them, not on --raw's subject",
    arg: "SUBJECT",
  },
  timeline: {
    help: "also write each measured frame's send time (µs on the wall clock) and latency (µs, " +
      "-1: no answer), with the receiving thread's stalls, to this file (latency)",
    arg: "PATH",
  },
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

/** What the latency sender thread is given. */
interface SenderData {
  nats: string;
  feed: string;
  channels: number;
  rate: number;
  total: number;
  warm: number;
  /** Publish raw messages on this subject instead of frames. */
  raw: string | undefined;
  /** Send times (ms, the sender thread's clock), by frame number, shared with the receiver. */
  sentAt: SharedArrayBuffer;
  /** The handshake that relates the two threads' clocks (see `clockOffset`). */
  sync: SharedArrayBuffer;
  /** One Int32: how many frames have been answered so far. */
  received: SharedArrayBuffer;
}

/** A thread's monotonic clock in milliseconds (each thread has its own origin). */
function monoMs(): number {
  return performance.now();
}

/** Rounds of the clock handshake; the tightest counts. */
const SYNC_ROUNDS = 16;

/**
 * The sender's half of the clock handshake: for each round it says it is ready, spins until the
 * receiver answers, and reads its clock at once.
 */
function clockHandshakeSender(sync: SharedArrayBuffer): void {
  const flags = new Int32Array(sync, 0, 2);
  const times = new Float64Array(sync, 8, SYNC_ROUNDS);
  for (let k = 1; k <= SYNC_ROUNDS; k++) {
    Atomics.store(flags, 1, k);
    Atomics.notify(flags, 1);
    while (Atomics.load(flags, 0) !== k) { /* spin: the answer must be seen at once */ }
    times[k - 1] = monoMs();
  }
  Atomics.store(flags, 1, SYNC_ROUNDS + 1);
  Atomics.notify(flags, 1);
}

/**
 * The receiver's half: reads its clock and answers the spinning sender, which reads its own
 * within a microsecond or so. The smallest difference over the rounds is the sender's clock minus
 * this thread's, so a sender time `t` is `t - offset` here. (Node shares one clock between
 * threads, Deno does not; this works for both.)
 */
function clockOffset(sync: SharedArrayBuffer): number {
  const flags = new Int32Array(sync, 0, 2);
  const times = new Float64Array(sync, 8, SYNC_ROUNDS);
  const mine = new Float64Array(SYNC_ROUNDS);
  const deadline = monoMs() + 60_000;
  for (let k = 1; k <= SYNC_ROUNDS + 1; k++) {
    while (Atomics.load(flags, 1) < k) {
      if (monoMs() > deadline) throw new Error("the sender thread did not start within 60 s");
      Atomics.wait(flags, 1, k - 1, 100);
    }
    if (k > SYNC_ROUNDS) break;
    mine[k - 1] = monoMs();
    Atomics.store(flags, 0, k);
  }
  let offset = Infinity;
  for (let k = 0; k < SYNC_ROUNDS; k++) offset = Math.min(offset, times[k]! - mine[k]!);
  return offset;
}

/**
 * Hands each answer to `answer`: with `--raw`, the echoed frame's index and send time from its
 * payload; otherwise the index from an output envelope's cause (`lat:<sender's run>:<index>`).
 */
function subscribeAnswers(
  nc: NatsConnection,
  answer: (i: number, now: number, sent?: number) => void,
): void {
  if (values.raw !== undefined) {
    nc.subscribe(values["raw-answers"] ?? values.raw, {
      callback: (_err, msg) => {
        const now = monoMs();
        const d = msg.data;
        const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
        answer(view.getFloat64(8, true), now, view.getFloat64(0, true));
      },
    });
  } else {
    if (values.answers === undefined) throw new Error("--mode latency needs --answers or --raw");
    nc.subscribe(values.answers, {
      callback: (_err, msg) => {
        const now = monoMs();
        let cause: string | undefined;
        try {
          cause = decodeEnvelope(msg.data).cause;
        } catch {
          return;
        }
        // `lat:<sender's run>:<index>`
        if (cause?.startsWith("lat:")) answer(Number(cause.slice(cause.lastIndexOf(":") + 1)), now);
      },
    });
  }
}

/**
 * Times the answers to one-sample frames that a sender thread publishes at a fixed rate. The
 * sender has its own thread (and connection) so that it can sleep between frames without a busy
 * loop and without delaying the receipt of answers here.
 */
async function latency(nc: NatsConnection): Promise<void> {
  const rate = values.rate;
  const channels = values.channels;
  const warm = Math.round(rate * values.warmup);
  const total = warm + Math.round(rate * values.seconds);
  const sentAt = new Float64Array(new SharedArrayBuffer(total * 8)).fill(NaN);
  const answered = new Uint8Array(total);
  const answers = new Float64Array(total);
  // Latencies by frame for --timeline, and this thread's stalls after the warm-up.
  const timeline = values.timeline === undefined ? undefined : new FrameTimeline(total);
  const stalls = timeline && LoopGaps.start();
  let count = 0;
  let received = 0;
  const receivedShared = new Int32Array(new SharedArrayBuffer(4));
  /** The sender's clock minus this thread's, known once the sender has started. */
  let offset = NaN;
  /** Records the answer to frame `i`, sent at `sent` (sender's clock; from the payload, if any). */
  const answer = (i: number, now: number, sent = sentAt[i]) => {
    if (!(i >= 0 && i < total) || answered[i] || sent === undefined || Number.isNaN(sent)) return;
    answered[i] = 1;
    received++;
    Atomics.store(receivedShared, 0, received);
    if (i < warm) return;
    answers[count++] = (now - (sent - offset)) * 1000;
    timeline?.answer(i, answers[count - 1]!);
  };
  subscribeAnswers(nc, answer);
  await nc.flush();

  const data: SenderData = {
    nats: values.nats!,
    feed: values.feed,
    channels,
    rate,
    total,
    warm,
    raw: values.raw,
    sentAt: sentAt.buffer as SharedArrayBuffer,
    sync: new SharedArrayBuffer(8 + SYNC_ROUNDS * 8),
    received: receivedShared.buffer as SharedArrayBuffer,
  };
  // This file again, on a worker thread (the one way troupe starts them: see startWorker).
  const sender = await startWorker(new URL(import.meta.url), { workerData: data });
  // Blocks this thread until the sender is up: nothing is sent before it returns.
  offset = clockOffset(data.sync);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sentPerS = await new Promise<number>((resolve, reject) => {
    sender.on("message", (m: { sentPerS?: number }) => {
      // The warm-up is over: the receiver's CPU is counted from here (bench latency).
      if (m.sentPerS !== undefined) return resolve(m.sentPerS);
      console.log(JSON.stringify({ measuring: true }));
      stalls?.reset();
    });
    sender.once("error", reject);
    sender.once("exit", (code) => reject(new Error(`the sender thread exited with code ${code}`)));
  });
  const cpuPct = cpuPercent(cpu0, performance.now() - t0);
  for (let waited = 0; received < total && waited < 2000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await sender.terminate();
  if (stalls) {
    stalls.stop();
    const receiver = stallTimeline(stalls);
    timeline!.write(values.timeline!, { from: warm, sentMs: (i) => sentAt[i]! - offset, receiver });
  }
  const latencies = answers.subarray(0, count).sort();
  const line = JSON.stringify({
    latencies_us: Array.from(latencies, (x) => Math.round(x * 10) / 10),
    lost: total - warm - count,
    sent_per_s: sentPerS,
    cpu_pct: cpuPct,
  });
  await new Promise<void>((resolve) => process.stdout.write(`${line}\n`, () => resolve()));
}

/**
 * The sender thread: publishes `total` frames at `rate`, sleeping (not spinning) in between. Frame
 * ids are unique to the sender (its process and start time, then the frame's index): each phase
 * sends from index 0 again, and an instance passes over an id it applied recently (its window of
 * 256), so ids reused from the previous phase would get no answer at low rates.
 */
async function sendPaced(data: SenderData): Promise<void> {
  const nc = await connect({ servers: data.nats, name: "troupe-bench-injector-sender" });
  const run = `${process.pid}.${Date.now().toString(36)}`;
  const sentAt = new Float64Array(data.sentAt);
  clockHandshakeSender(data.sync);
  let send: (i: number, at: number) => void;
  if (data.raw !== undefined) {
    const subject = data.raw;
    // The same size as a one-sample frame, so the bytes moved match.
    const size = encodeFrame(
      { channel: "l0", seq0: 0, t: new Float64Array([1.7e15]), v: new Float64Array([1]) },
      { id: `lat:${run}:${data.total}`, src: "bench" },
    ).byteLength;
    send = (i, at) => {
      const bytes = new Uint8Array(size);
      const view = new DataView(bytes.buffer);
      view.setFloat64(0, at, true);
      view.setFloat64(8, i, true);
      nc.publish(subject, bytes);
    };
  } else {
    const subjects = Array.from(
      { length: data.channels },
      (_, c) => feedSubject(data.feed, `l${c}`),
    );
    const t = new Float64Array(1);
    const v = new Float64Array(1);
    const seqs = new Float64Array(data.channels);
    send = (i) => {
      const c = i % data.channels;
      t[0] = Math.round((performance.timeOrigin + performance.now()) * 1000);
      v[0] = Math.sin(i / 100);
      const frame = { channel: `l${c}`, seq0: seqs[c]!, t, v };
      seqs[c] = seqs[c]! + 1;
      nc.publish(subjects[c]!, encodeFrame(frame, { id: `lat:${run}:${i}`, src: "bench" }));
    };
  }
  await nc.flush();
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const received = new Int32Array(data.received);
  const intervalMs = 1000 / data.rate;
  let start = monoMs();
  let measuredFrom = start;
  for (let i = 0; i < data.total; i++) {
    if (i === data.warm) {
      // Let the receiver work off what the warm-up left queued (up to 10 s), so the measured
      // frames start from a steady state; then start the schedule afresh.
      const until = monoMs() + 10_000;
      while (Atomics.load(received, 0) < data.warm && monoMs() < until) {
        Atomics.wait(received, 0, Atomics.load(received, 0), 10);
      }
      start = monoMs() - i * intervalMs;
    }
    const wait = start + i * intervalMs - monoMs();
    // Sleeping is late by up to the timer slack (~50 µs): the schedule is absolute, so the rate
    // holds, and each frame is stamped when it is actually sent.
    if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
    const at = monoMs();
    if (i === data.warm) {
      measuredFrom = at;
      parentPort!.postMessage({ measuring: true });
    }
    sentAt[i] = at;
    send(i, at);
    // Let nats.js flush (it writes on a microtask).
    await Promise.resolve();
  }
  const sentPerS = ((data.total - data.warm) * 1000) / (monoMs() - measuredFrom);
  await nc.flush();
  parentPort!.postMessage({ sentPerS });
  await nc.close();
}

function cpuPercent(from: ReturnType<typeof process.cpuUsage>, elapsedMs: number): number {
  const d = process.cpuUsage(from);
  return Math.round(((d.user + d.system) / 1000 / elapsedMs) * 100);
}

if (!isMainThread) {
  await sendPaced(workerData as SenderData);
} else {
  if (!values.nats) throw new Error("_injector.ts needs --nats <url>");
  const nc = await connect({ servers: values.nats, name: `troupe-bench-injector-${values.mode}` });
  if (values.mode === "throughput") await throughput(nc);
  else if (values.mode === "latency") await latency(nc);
  else throw new Error(`_injector.ts: unknown --mode "${values.mode}"`);
  await nc.close();
  // Exit once stdout is written out: a pipe is asynchronous, and a long last line would be cut.
  process.stdout.write("", () => process.exit(0));
}
