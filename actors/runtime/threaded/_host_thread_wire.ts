/**
 * What the main thread of a threaded host (threaded_host.ts) and its host threads
 * (_host_thread.ts) tell each other, and where each thread's counters are in the shared memory.
 * Apart from the thread's module, which starts a host when loaded in a worker: importing this
 * starts nothing.
 */
import type { LifecycleMessage, ThreadStop } from "../../threads/mod.ts";
import type { HostConfig, HostHealth, StepWatchHandle, TeamKinds } from "../host/mod.ts";

/** What the main thread gives a host thread. */
export interface HostThreadData {
  /** Marks the worker as a host thread's. */
  hostThread: true;
  index: number;
  config: HostConfig;
  /** The host ids of all the host's threads, named on each control answer (host_notices.ts). */
  answerers: string[];
  /**
   * The whole host's channel limit: what a thread admits for a group's instance (coherence's) of
   * channels living on other threads, which count there (HostLimits' `routedChannelsMax`).
   */
  hostChannelsMax: number;
  /** Shared counters: per thread, frames taken then inputs applied by kind (config's order). */
  counts: SharedArrayBuffer;
  /** The URL of the module of its kinds (kinds_module.ts), importable in the thread. */
  kindsModule: string;
  /**
   * Run the kinds module's host service beside the thread's host (the built-in kinds': the scan
   * service and worker over its bars); the thread whose config has an `http_port` serves the
   * scan API there, for the main thread to forward to.
   */
  scans: boolean;
  /** Milliseconds between looks for due clock ticks (launchHost's default; 0: none). */
  tickEveryMs?: number;
  /** The step watchdog the main thread started for the thread's host (step_watch.ts). */
  stepWatchdog?: StepWatchHandle;
  /**
   * The team's kinds whose steps the thread tries on trials threads of its own (step_trials.ts),
   * their modules built by the main thread; absent when they run under the watchdog.
   */
  teamKinds?: TeamKinds;
}

/**
 * Frames handed to a thread: their subjects and their bytes, views of the buffers transferred with
 * the message (several frames a buffer: _handed_batch.ts).
 */
export interface HandedFrames {
  s: string[];
  d: Array<Uint8Array<ArrayBuffer>>;
}

/** What the main thread tells a host thread besides frames: an ask for its metrics, or stop. */
export type ToHostThread = { type: "metrics"; id: number } | ThreadStop;

/** What a host thread's started message carries. */
export interface HostThreadStarted {
  httpPort: number | undefined;
  /** Its V8 heap's limit (young and old generations) in bytes, as its isolate reports it. */
  heapLimitBytes: number;
}

/**
 * What a host thread tells the main thread: its lifecycle (thread_lifecycle.ts: started or
 * failed, log lines, fatal as its host stops on an error, stopped), and its own health, warming
 * and metrics.
 */
export type FromHostThread =
  | LifecycleMessage<HostThreadStarted>
  | { type: "health"; health: HostHealth }
  | { type: "warming"; warming: string[] }
  | { type: "metrics"; id: number; text: string };

/** How often a thread tells its health. */
export const HEALTH_EVERY_MS = 250;

/** The index of thread `index`'s first counter (frames taken); its kinds' applied follow. */
export function countsBase(index: number, kinds: number): number {
  return index * (kinds + 1);
}
