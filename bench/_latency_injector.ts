/**
 * `bench latency`'s injector as the benchmark sees it: one child process (`_injector.ts --mode
 * latency`) started before the first phase and kept to the last, troupe's phases and raw
 * nats.js's alike, each phase's settings written to its stdin (`_latency_phases.ts`). Its code,
 * and its sender thread's, is compiled once for the whole run, not again in every phase.
 */
import process from "node:process";
import type { NatsServer } from "../actors/runtime/mod.ts";
import { ChildScript } from "./_child_script.ts";
import type { LatencyPhase } from "./_latency_phases.ts";
import { cpuMeter, threadCpuMs } from "./_process_usage.ts";
import { cpuMs } from "./_cpu_ms.ts";

/** Latencies of one phase in microseconds (sorted), and how many frames got no answer. */
export interface PhaseResult {
  latenciesUs: number[];
  lost: number;
  sentPerS: number;
  /** The receiving thread's CPU a measured frame, µs (the host's main thread, or raw's). */
  threadCpuUs: number | undefined;
  /** The host's whole process's CPU a measured frame, µs; undefined in a raw phase. */
  processCpuUs: number | undefined;
}

/** What the injector's frames are sent to, for all its phases. */
export interface InjectorTarget {
  nats: NatsServer;
  /** The feed's name in the frames' subjects. */
  feed: string;
  /** Frame i goes to channel `l<i % channels>`. */
  channels: number;
}

/** The long-lived injector of `bench latency`. */
export class LatencyInjector {
  readonly #child: ChildScript;
  readonly #nats: NatsServer;
  readonly #log: (m: string) => void;
  readonly pid: number;
  /** Phases run so far. */
  phases = 0;

  private constructor(child: ChildScript, nats: NatsServer, pid: number, log: (m: string) => void) {
    this.#child = child;
    this.#nats = nats;
    this.pid = pid;
    this.#log = log;
  }

  /** Starts the injector; resolves once its sender thread is connected. */
  static async start(t: InjectorTarget, log: (m: string) => void): Promise<LatencyInjector> {
    const child = ChildScript.start("bench/_injector.ts", [
      ...["--mode", "latency", "--nats", t.nats.url],
      ...["--feed", t.feed, "--channels", String(t.channels)],
    ], log);
    try {
      const ready = await child.next(60_000);
      if (ready.ready !== true || typeof ready.pid !== "number") throw unexpected(ready);
      return new LatencyInjector(child, t.nats, ready.pid, log);
    } catch (err) {
      await child.kill();
      throw err;
    }
  }

  /**
   * Runs phase `p` and collects its latencies, with the CPU its measured frames cost the
   * receiving thread: raw nats.js's subscriber is the injector's main thread (which counts its
   * own), troupe's receiver this process's (the host's).
   */
  async run(p: LatencyPhase): Promise<PhaseResult> {
    const cpu = cpuMeter({
      receiver: process.pid,
      injector: this.pid,
      "nats-server": this.#nats.pid,
    });
    const timeoutMs = 60_000 + (p.seconds + p.warmup) * 2000;
    this.phases++;
    this.#child.send(JSON.stringify(p));
    const start = await this.#child.next(timeoutMs);
    if (start.measuring !== true) throw unexpected(start);
    const thread0 = threadCpuMs(process.pid), process0 = process.cpuUsage();
    const result = await this.#child.next(timeoutMs);
    // Raw nats.js's subscriber counts its own thread over its measured frames (read here, the
    // count would miss what it did before this process read the `measuring` line).
    const threadMs = p.raw !== undefined
      ? (typeof result.thread_cpu_ms === "number" ? result.thread_cpu_ms : undefined)
      : minus(threadCpuMs(process.pid), thread0);
    const processMs = p.raw === undefined ? cpuMs(process0) : undefined;
    this.#log(`latency: CPU: ${cpu()} (injector's own count while sending: ${result.cpu_pct}%)`);
    if (!Array.isArray(result.latencies_us)) throw unexpected(result);
    const frames = result.latencies_us.length + Number(result.lost);
    const perFrame = (ms: number | undefined) =>
      ms === undefined || frames === 0 ? undefined : (ms * 1000) / frames;
    return {
      latenciesUs: result.latencies_us as number[],
      lost: Number(result.lost),
      sentPerS: Number(result.sent_per_s),
      threadCpuUs: perFrame(threadMs),
      processCpuUs: perFrame(processMs),
    };
  }

  /** Tells the injector to end, and waits for it (killing it if it does not). */
  async stop(): Promise<void> {
    this.#child.send("stop");
    await this.#child.wait(10_000);
  }
}

function unexpected(answer: Record<string, unknown>): Error {
  const what = typeof answer.error === "string"
    ? answer.error
    : `answered ${JSON.stringify(answer).slice(0, 200)}`;
  return new Error(`latency: the injector ${what}`);
}

/** `b - a`, undefined where either is. */
function minus(b: number | undefined, a: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : b - a;
}
