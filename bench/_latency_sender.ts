/**
 * The latency injector's sender thread (`_latency_phases.ts` starts it once, for every phase of
 * `bench latency`): one connection to nats-server for its whole life, and for each phase it is
 * told, one-sample frames (or raw messages of the same size) at a fixed rate, evenly spaced (it
 * sleeps between them, not spins), each stamped when actually sent. Living across phases, its code
 * is compiled once, not again in every phase.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { setImmediate } from "node:timers";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { encodeFrame, feedSubject } from "../protocol/mod.ts";
import { clockHandshakeSender, monoMs } from "./_clock_handshake.ts";

/** What the sender thread is started with, for its whole life. */
export interface SenderStart {
  nats: string;
  /** The feed's name in the frames' subjects. */
  feed: string;
  /** Frame i goes to channel `l<i % channels>`. */
  channels: number;
  /** The clock handshake's shared memory (see `_clock_handshake.ts`). */
  sync: SharedArrayBuffer;
}

/** One phase the sender is told to send. */
export interface SenderPhase {
  /** Unique to the phase: a frame's id is `lat:<run>:<index>`. */
  run: string;
  /** The phase's number, in a raw message's third 8 bytes. */
  phase: number;
  rate: number;
  /** Frames in all, the warm-up's first. */
  total: number;
  warm: number;
  /** Publish raw messages on this subject instead of frames. */
  raw: string | undefined;
  /** Send times (ms, this thread's clock), by frame number, shared with the receiver. */
  sentAt: SharedArrayBuffer;
  /** One Int32: how many frames have been answered so far. */
  received: SharedArrayBuffer;
}

/** What the sender posts for a phase: `measuring` as the warm-up ends, then `sentPerS`. */
export type SenderNote = { measuring: true } | { sentPerS: number };

/**
 * Frames between the sender's turns of its event loop. Between frames it sleeps blocked
 * (`Atomics.wait`) and lets only microtasks run, so the sockets' write callbacks, and what they
 * hold, wait for a turn: without one for a whole phase, its heap grew by ~10 MB a second at
 * 10,000 frames/s (130 MB over a run of 8 phases, `--trace-gc`) and a scavenge of it stopped the
 * sender for up to 126 ms, whose frames then went out in a burst. A turn every 64 frames keeps the
 * heap at 12-16 MB; it delays the next frame by the turn's few µs (each is stamped when sent).
 */
const YIELD_EVERY = 64;

/** Sends one frame: its index and send time. */
type Send = (i: number, at: number) => void;

/**
 * Raw messages on `p.raw`, the size of a one-sample frame (so the bytes moved match), with the
 * send time, the index and the phase in their first 24 bytes.
 */
function rawSend(nc: NatsConnection, p: SenderPhase, subject: string): Send {
  const size = encodeFrame(
    { channel: "l0", seq0: 0, t: new Float64Array([1.7e15]), v: new Float64Array([1]) },
    { id: `lat:${p.run}:${p.total}`, src: "bench" },
  ).byteLength;
  return (i, at) => {
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, at, true);
    view.setFloat64(8, i, true);
    view.setFloat64(16, p.phase, true);
    nc.publish(subject, bytes);
  };
}

/** One-sample frames round the channels; each channel's sequence goes on across phases. */
function frameSend(nc: NatsConnection, s: SenderStart, p: SenderPhase, seqs: Float64Array): Send {
  const subjects = Array.from({ length: s.channels }, (_, c) => feedSubject(s.feed, `l${c}`));
  const t = new Float64Array(1);
  const v = new Float64Array(1);
  return (i) => {
    const c = i % s.channels;
    t[0] = Math.round((performance.timeOrigin + performance.now()) * 1000);
    v[0] = Math.sin(i / 100);
    const frame = { channel: `l${c}`, seq0: seqs[c]!, t, v };
    seqs[c] = seqs[c]! + 1;
    nc.publish(subjects[c]!, encodeFrame(frame, { id: `lat:${p.run}:${i}`, src: "bench" }));
  };
}

/**
 * Sends phase `p`'s frames at its rate. After the warm-up's, it lets the receiver work off what
 * they left queued (up to 10 s), so the measured frames start from a steady state, says so, and
 * starts the schedule afresh. A phase of warm-up alone (total = warm) is one too.
 */
async function sendPhase(nc: NatsConnection, p: SenderPhase, send: Send): Promise<void> {
  const sentAt = new Float64Array(p.sentAt);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const received = new Int32Array(p.received);
  const intervalMs = 1000 / p.rate;
  let start = monoMs();
  let measuredFrom = start;
  for (let i = 0;; i++) {
    if (i === p.warm) {
      const until = monoMs() + 10_000;
      while (Atomics.load(received, 0) < p.warm && monoMs() < until) {
        Atomics.wait(received, 0, Atomics.load(received, 0), 10);
      }
      start = monoMs() - i * intervalMs;
      measuredFrom = monoMs();
      parentPort!.postMessage({ measuring: true } satisfies SenderNote);
    }
    if (i === p.total) break;
    const wait = start + i * intervalMs - monoMs();
    // Sleeping is late by up to the timer slack (~50 µs): the schedule is absolute, so the rate
    // holds, and each frame is stamped when it is actually sent.
    if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
    const at = monoMs();
    sentAt[i] = at;
    send(i, at);
    // Let nats.js flush (it writes on a microtask); now and then, let the event loop run.
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise<void>((r) => setImmediate(r));
    else await Promise.resolve();
  }
  const measured = p.total - p.warm;
  const sentPerS = measured === 0 ? 0 : (measured * 1000) / (monoMs() - measuredFrom);
  await nc.flush();
  parentPort!.postMessage({ sentPerS } satisfies SenderNote);
}

/**
 * Connects, does its half of the clock handshake, then sends each phase it is told, in turn. It
 * listens for phases first: the receiver may send one as soon as the handshake is done, and on
 * Deno a message that reaches a worker before it listens is lost (the first phase then never ran:
 * `bench latency`'s injector hung in 2 of ~15 runs on Deno under load).
 */
async function serve(s: SenderStart): Promise<void> {
  const queue: SenderPhase[] = [];
  let wake: (() => void) | undefined;
  parentPort!.on("message", (p: SenderPhase) => {
    queue.push(p);
    wake?.();
  });
  const nc = await connect({ servers: s.nats, name: "troupe-bench-injector-sender" });
  clockHandshakeSender(s.sync);
  await nc.flush();
  const seqs = new Float64Array(s.channels);
  // The receiver ends this thread when it is done (Worker.terminate).
  for (;;) {
    const p = queue.shift() ?? await new Promise<SenderPhase>((resolve) => {
      wake = () => {
        wake = undefined;
        resolve(queue.shift()!);
      };
    });
    const send = p.raw === undefined ? frameSend(nc, s, p, seqs) : rawSend(nc, p, p.raw);
    await sendPhase(nc, p, send);
  }
}

if (!isMainThread) await serve(workerData as SenderStart);
