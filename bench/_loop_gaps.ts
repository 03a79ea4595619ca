/**
 * Where this process's event loop stood still during a benchmark phase, and why. A timer every
 * millisecond notes each gap between its runs longer than `gapMs`, with what the main thread did
 * meanwhile, from Linux's `/proc/self/task/<pid>/schedstat` (time on a CPU, time runnable but
 * waiting for one): on the CPU (the host at work: a backlog of frames, a collection, a timer's
 * work), waiting to run (runnable, not scheduled: the machine's other threads had the cores), or
 * neither (asleep: blocked in a system call, or held by the kernel's real-time throttle). Garbage
 * collections are counted beside them where the runtime reports them (Node's `gc` performance
 * entries). `bench latency --trace-stages` reports these for each host phase: a frame's NATS stage
 * is long when the host's loop stood still before its callback, and this says why it stood still.
 * The timer itself is a wake-up a millisecond, so it is on only when asked for.
 */
import { readFileSync } from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";
import process from "node:process";

/** A phase's gaps: how many, how long in all, and how their time split. */
export interface LoopGapFigures {
  gaps: number;
  gap_ms: number;
  longest_ms: number;
  /** The main thread on a CPU, waiting for one, and neither, within the gaps; NaN unknown. */
  on_cpu_ms: number;
  waiting_ms: number;
  asleep_ms: number;
  /** Collections over the whole phase (not only within gaps); NaN where not reported. */
  gcs: number;
  gc_ms: number;
}

/** Options of LoopGaps.start. */
export interface LoopGapsOptions {
  /** A stall shorter than this is not a gap (default 2 ms). */
  gapMs?: number;
}

/** Figures of no gaps yet. */
export function noGaps(gcReported: boolean): LoopGapFigures {
  const gc = gcReported ? 0 : NaN;
  return {
    gaps: 0,
    gap_ms: 0,
    longest_ms: 0,
    on_cpu_ms: 0,
    waiting_ms: 0,
    asleep_ms: 0,
    gcs: gc,
    gc_ms: gc,
  };
}

/**
 * Adds a gap of `gapMs` in which the thread was on a CPU for `onCpuMs` and waited for one for
 * `waitMs` (undefined: not known); the rest of the gap is asleep. The scheduler's counts and the
 * clock are read at slightly different moments, so the parts are clamped to the gap.
 */
export function addGap(
  f: LoopGapFigures,
  gap: { gapMs: number; onCpuMs: number | undefined; waitMs: number | undefined },
): void {
  const { gapMs } = gap;
  f.gaps++;
  f.gap_ms += gapMs;
  if (gapMs > f.longest_ms) f.longest_ms = gapMs;
  if (gap.onCpuMs === undefined || gap.waitMs === undefined) {
    f.on_cpu_ms = f.waiting_ms = f.asleep_ms = NaN;
    return;
  }
  const onCpu = Math.min(gapMs, Math.max(0, gap.onCpuMs));
  const wait = Math.min(gapMs - onCpu, Math.max(0, gap.waitMs));
  f.on_cpu_ms += onCpu;
  f.waiting_ms += wait;
  f.asleep_ms += gapMs - onCpu - wait;
}

/** One line for people: `12 gaps, 80 ms (longest 21 ms): on the CPU 30 ms, ...`. */
export function describeGaps(f: LoopGapFigures): string {
  const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
  const gc = Number.isNaN(f.gcs) ? "" : `; ${f.gcs} collections, ${ms(f.gc_ms)}`;
  if (f.gaps === 0) return `no gaps${gc}`;
  const split = Number.isNaN(f.on_cpu_ms)
    ? "(no scheduler counts here)"
    : `on the CPU ${ms(f.on_cpu_ms)}, waiting to run ${ms(f.waiting_ms)}, asleep ${
      ms(f.asleep_ms)
    }`;
  return `${f.gaps} gaps, ${ms(f.gap_ms)} (longest ${ms(f.longest_ms)}): ${split}${gc}`;
}

/** The main thread's time on a CPU and waiting for one so far, in ms; undefined off Linux. */
function schedMs(): { onCpu: number; wait: number } | undefined {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/schedstat`, "latin1").split(" ");
    const onCpu = Number(f[0]) / 1e6, wait = Number(f[1]) / 1e6;
    return Number.isFinite(onCpu) && Number.isFinite(wait) ? { onCpu, wait } : undefined;
  } catch {
    return undefined;
  }
}

/** A running watch over this process's event loop (see the module comment). */
export class LoopGaps {
  readonly #gapMs: number;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #gc: PerformanceObserver | undefined;
  #figures: LoopGapFigures;
  #lastMs = performance.now();
  #lastSched = schedMs();

  private constructor(options: LoopGapsOptions) {
    this.#gapMs = options.gapMs ?? 2;
    this.#gc = gcObserver((ms) => {
      this.#figures.gcs++;
      this.#figures.gc_ms += ms;
    });
    this.#figures = noGaps(this.#gc !== undefined);
    this.#timer = setInterval(() => this.#tick(), 1);
  }

  /** Starts watching. */
  static start(options: LoopGapsOptions = {}): LoopGaps {
    return new LoopGaps(options);
  }

  /** Forgets what was seen so far (a warm-up's). */
  reset(): void {
    this.#figures = noGaps(this.#gc !== undefined);
  }

  /** Stops watching; the figures since the start or the last reset. */
  stop(): LoopGapFigures {
    clearInterval(this.#timer);
    this.#gc?.disconnect();
    return this.#figures;
  }

  #tick(): void {
    const now = performance.now(), sched = schedMs();
    const gapMs = now - this.#lastMs;
    if (gapMs > this.#gapMs) {
      const before = this.#lastSched;
      addGap(this.#figures, {
        gapMs,
        onCpuMs: sched && before ? sched.onCpu - before.onCpu : undefined,
        waitMs: sched && before ? sched.wait - before.wait : undefined,
      });
    }
    this.#lastMs = now;
    this.#lastSched = sched;
  }
}

/** An observer calling `onGc` with each collection's pause in ms, or undefined where none. */
function gcObserver(onGc: (ms: number) => void): PerformanceObserver | undefined {
  try {
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) onGc(e.duration);
    });
    observer.observe({ entryTypes: ["gc"] });
    return observer;
  } catch {
    return undefined;
  }
}
