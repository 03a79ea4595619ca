/**
 * The injector's latency mode (`_injector.ts --mode latency`, bench latency): one process, and one
 * sender thread in it (`_latency_sender.ts`), for every phase of a run, troupe's and raw nats.js's
 * alike, so that no phase pays for compiling the injector's code again. Each stdin line is a phase:
 *
 *     {"rate":r,"seconds":s,"warmup":w,"answers":PATTERN | "raw":SUBJECT,
 *      "raw_answers"?:SUBJECT,"timeline"?:PATH}
 *
 * The sender publishes one-sample frames at `rate` a second for `warmup` seconds, waits until they
 * are all answered (up to 10 s), then for `seconds` more, while this thread times the answers:
 * with `answers`, actor outputs matched to their frame by `cause`; with `raw`, the messages
 * themselves, published on that subject with the send time in their first 8 bytes (raw one-way
 * latency; with `raw_answers`, timed where a relay republishes them, two hops as a troupe frame
 * takes). With `timeline`, each measured frame's send time and latency and this thread's stalls
 * go to that file (`_frame_timeline.ts`). A phase of `seconds` 0 is a warm-up alone.
 *
 * Prints `{"ready":true,"pid":p}` once the sender is up; for each phase `{"measuring":true}` as its
 * measured frames start (so that the receiver's CPU can be counted over them), then
 * `{"phase":n,"latencies_us":[...sorted...],"lost":n,"sent_per_s":r,"cpu_pct":c,"thread_cpu_ms":m}`
 * (`thread_cpu_ms`: this process's main thread, where raw nats.js's subscriber runs, over the
 * measured frames; where the scheduler's counts can be read), or
 * `{"phase":n,"error":"..."}` for a line it cannot run. The line `stop`, or the end of stdin, ends
 * it.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import process from "node:process";
import { createInterface } from "node:readline";
import type { Worker } from "node:worker_threads";
import { startWorker } from "../actors/threads/mod.ts";
import { decodeEnvelope } from "../protocol/mod.ts";
import { clockOffset, handshakeBuffer, monoMs } from "./_clock_handshake.ts";
import { FrameTimeline } from "./_frame_timeline.ts";
import type { SenderNote, SenderPhase, SenderStart } from "./_latency_sender.ts";
import { LoopGaps } from "./_loop_gaps.ts";
import { cpuPercent, threadCpuMs } from "./_process_usage.ts";
import { stallTimeline } from "./_stall_timeline.ts";

/** One phase, as a stdin line gives it. */
export interface LatencyPhase {
  rate: number;
  seconds: number;
  warmup: number;
  answers: string | undefined;
  raw: string | undefined;
  raw_answers: string | undefined;
  timeline: string | undefined;
}

/** A number at or over `min` from field `name` of phase `n`'s line, or an error naming both. */
function numberField(o: Record<string, unknown>, name: string, min: number, n: number): number {
  const x = o[name];
  if (typeof x !== "number" || !Number.isFinite(x) || x < min) {
    throw new Error(`phase ${n}: "${name}" must be a number ≥ ${min}, got ${JSON.stringify(x)}`);
  }
  return x;
}

/** A string from field `name` of phase `n`'s line, if there; an error if it is not a string. */
function stringField(o: Record<string, unknown>, name: string, n: number): string | undefined {
  const x = o[name];
  if (x !== undefined && (typeof x !== "string" || x === "")) {
    throw new Error(`phase ${n}: "${name}" must be a non-empty string, got ${JSON.stringify(x)}`);
  }
  return x;
}

/** Phase `n` from its stdin line; an error naming the field and the value if it is not one. */
export function readPhase(line: string, n: number): LatencyPhase {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new Error(`phase ${n}: not a JSON object: ${line.slice(0, 200)}`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new Error(`phase ${n}: not a JSON object: ${line.slice(0, 200)}`);
  }
  const r = o as Record<string, unknown>;
  const phase: LatencyPhase = {
    rate: numberField(r, "rate", 1e-3, n),
    seconds: numberField(r, "seconds", 0, n),
    warmup: numberField(r, "warmup", 0, n),
    answers: stringField(r, "answers", n),
    raw: stringField(r, "raw", n),
    raw_answers: stringField(r, "raw_answers", n),
    timeline: stringField(r, "timeline", n),
  };
  if ((phase.answers === undefined) === (phase.raw === undefined)) {
    throw new Error(`phase ${n}: give one of "answers" and "raw", got ${line.slice(0, 200)}`);
  }
  if (phase.raw_answers !== undefined && phase.raw === undefined) {
    throw new Error(`phase ${n}: "raw_answers" needs "raw", got ${line.slice(0, 200)}`);
  }
  return phase;
}

/** The sender thread, told one phase at a time. */
class SenderThread {
  readonly #worker: Worker;
  #onNote: ((note: SenderNote) => void) | undefined;
  #onError: ((err: Error) => void) | undefined;
  #dead: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (note: SenderNote) => this.#onNote?.(note));
    const die = (err: Error) => {
      this.#dead ??= err;
      this.#onError?.(err);
    };
    worker.on("error", die);
    worker.on("exit", (code) => die(new Error(`the sender thread exited with code ${code}`)));
  }

  /** Starts the thread; returns once it has connected and related its clock to this thread's. */
  static async start(s: Omit<SenderStart, "sync">): Promise<[SenderThread, number]> {
    const data: SenderStart = { ...s, sync: handshakeBuffer() };
    const worker = await startWorker(new URL("./_latency_sender.ts", import.meta.url), {
      workerData: data,
    });
    const thread = new SenderThread(worker);
    // Blocks this thread until the sender is up: nothing is sent before it returns.
    return [thread, clockOffset(data.sync)];
  }

  /** Sends phase `p`; `measuring` runs as its warm-up ends. Resolves to the measured rate. */
  send(p: SenderPhase, measuring: () => void): Promise<number> {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise<number>((resolve, reject) => {
      this.#onError = reject;
      this.#onNote = (note) => {
        if ("sentPerS" in note) resolve(note.sentPerS);
        else measuring();
      };
      this.#worker.postMessage(p);
    }).finally(() => {
      this.#onNote = undefined;
      this.#onError = undefined;
    });
  }

  stop(): Promise<number> {
    return this.#worker.terminate();
  }
}

/** What a phase's answers are matched by: its frames' ids' prefix, or a raw message's phase. */
interface PhaseKey {
  run: string;
  phase: number;
}

/**
 * Hands each answer of phase `key` to `answer` (a late one of an earlier phase is passed over):
 * with `raw`, the echoed message's index and send time from its payload; otherwise the index from
 * an output envelope's cause (`lat:<run>:<index>`).
 */
function subscribeAnswers(
  nc: NatsConnection,
  p: LatencyPhase,
  key: PhaseKey,
  answer: (i: number, now: number, sent?: number) => void,
): Subscription {
  if (p.raw !== undefined) {
    return nc.subscribe(p.raw_answers ?? p.raw, {
      callback: (_err, msg) => {
        const now = monoMs();
        const d = msg.data;
        const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
        if (d.byteLength < 24 || view.getFloat64(16, true) !== key.phase) return;
        answer(view.getFloat64(8, true), now, view.getFloat64(0, true));
      },
    });
  }
  const prefix = `lat:${key.run}:`;
  return nc.subscribe(p.answers!, {
    callback: (_err, msg) => {
      const now = monoMs();
      let cause: string | undefined;
      try {
        cause = decodeEnvelope(msg.data).cause;
      } catch {
        return;
      }
      if (cause?.startsWith(prefix)) answer(Number(cause.slice(prefix.length)), now);
    },
  });
}

/** What `runPhase` works with: the connection, the sender and its clock's offset from this one. */
interface PhaseParts {
  nc: NatsConnection;
  sender: SenderThread;
  /** The sender's clock minus this thread's. */
  offset: number;
}

/** Runs phase number `n` and prints its latencies (see the file's comment). */
async function runPhase(parts: PhaseParts, p: LatencyPhase, n: number): Promise<void> {
  const { nc, sender, offset } = parts;
  const warm = Math.round(p.rate * p.warmup);
  const total = warm + Math.round(p.rate * p.seconds);
  const key: PhaseKey = { run: `${process.pid}.${Date.now().toString(36)}.${n}`, phase: n };
  const sentAt = new Float64Array(new SharedArrayBuffer(total * 8)).fill(NaN);
  const answered = new Uint8Array(total);
  const answers = new Float64Array(total);
  // Latencies by frame for the timeline, and this thread's stalls after the warm-up.
  const timeline = p.timeline === undefined ? undefined : new FrameTimeline(total);
  const stalls = timeline && LoopGaps.start();
  let count = 0;
  let received = 0;
  const receivedShared = new Int32Array(new SharedArrayBuffer(4));
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
  const sub = subscribeAnswers(nc, p, key, answer);
  await nc.flush();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const phase: SenderPhase = {
    ...key,
    ...{ rate: p.rate, total, warm, raw: p.raw },
    sentAt: sentAt.buffer as SharedArrayBuffer,
    received: receivedShared.buffer as SharedArrayBuffer,
  };
  let thread0: number | undefined;
  const sentPerS = await sender.send(phase, () => {
    // The warm-up is over: the receiver's CPU is counted from here (bench latency).
    console.log(JSON.stringify({ measuring: true }));
    thread0 = threadCpuMs(process.pid);
    stalls?.reset();
  });
  const cpuPct = cpuPercent(cpu0, performance.now() - t0);
  for (let waited = 0; received < total && waited < 2000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
  }
  // Raw nats.js's subscriber is this thread: its CPU over the measured frames, counted here,
  // where the phase's start and end are, not by the parent when it reads the lines (on a loaded
  // machine, after a short phase's frames had all come).
  const thread1 = threadCpuMs(process.pid);
  sub.unsubscribe();
  if (stalls) {
    stalls.stop();
    const receiver = stallTimeline(stalls);
    timeline!.write(p.timeline!, { from: warm, sentMs: (i) => sentAt[i]! - offset, receiver });
  }
  const latencies = answers.subarray(0, count).sort();
  await printLine({
    phase: n,
    latencies_us: Array.from(latencies, (x) => Math.round(x * 10) / 10),
    lost: total - warm - count,
    sent_per_s: sentPerS,
    cpu_pct: cpuPct,
    ...(thread0 === undefined || thread1 === undefined ? {} : { thread_cpu_ms: thread1 - thread0 }),
  });
}

/** Prints `message` as a JSON line, resolving once it is written (a pipe is asynchronous). */
function printLine(message: Record<string, unknown>): Promise<void> {
  const line = JSON.stringify(message);
  return new Promise<void>((resolve) => process.stdout.write(`${line}\n`, () => resolve()));
}

/** The lines of stdin, one at a time; undefined at its end. */
function stdinLines(): () => Promise<string | undefined> {
  const lines: (string | undefined)[] = [];
  let wake: (() => void) | undefined;
  const push = (line: string | undefined) => {
    lines.push(line);
    wake?.();
  };
  createInterface({ input: process.stdin }).on("line", push).on("close", () => push(undefined));
  return async () => {
    while (lines.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return lines.shift();
  };
}

/**
 * Serves phases from stdin on connection `nc` with one sender thread for them all (frames to
 * `feed`'s channels l0 .. l<channels - 1>), until `stop` or the end of stdin.
 */
export async function servePhases(nc: NatsConnection, o: Omit<SenderStart, "sync">): Promise<void> {
  const nextLine = stdinLines();
  const [sender, offset] = await SenderThread.start(o);
  await printLine({ ready: true, pid: process.pid });
  try {
    for (let n = 1;; n++) {
      const line = (await nextLine())?.trim();
      if (line === undefined || line === "stop") break;
      let p: LatencyPhase;
      try {
        p = readPhase(line, n);
      } catch (err) {
        await printLine({ phase: n, error: (err as Error).message });
        continue;
      }
      await runPhase({ nc, sender, offset }, p, n);
    }
  } finally {
    await sender.stop();
  }
}
