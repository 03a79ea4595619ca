/**
 * Where this process's event loop stood still during a benchmark phase, and why. A timer every
 * millisecond notes each gap between its runs longer than `gapMs`, with what the main thread did
 * meanwhile, from Linux's `/proc/self/task/<pid>/schedstat` (time on a CPU, time runnable but
 * waiting for one): on the CPU (the host at work: a backlog of frames, a collection, a timer's
 * work), waiting to run (runnable, not scheduled: the machine's other threads had the cores), or
 * neither (asleep: blocked in a system call, or held by the kernel's real-time throttle). Garbage
 * collections are counted beside them where the runtime reports them (Node's `gc` performance
 * entries; Deno's observer takes the type and reports none), with how much of their pause fell
 * within the gaps: a gap's time on the CPU may be a collection's or the host's work, and this
 * tells them apart. `bench latency --trace-stages` reports these for each host phase: a frame's
 * NATS stage is long when the host's loop stood still before its callback, and this says why it
 * stood still. The timer itself is a wake-up a millisecond, so it is on only when asked for.
 */
import { readFileSync } from "node:fs";
import { constants, PerformanceObserver } from "node:perf_hooks";
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
  /** The longest collection's pause, and the collections' pause within the gaps; NaN unknown. */
  gc_longest_ms: number;
  gc_in_gaps_ms: number;
}

/** A stretch of the phase, from `startMs` for `ms` (performance.now() time). */
export interface Stretch {
  startMs: number;
  ms: number;
}

/** A gap, with what the thread did in it (ms; undefined where not known). */
export interface GapStretch extends Stretch {
  onCpuMs: number | undefined;
  waitMs: number | undefined;
}

/** A collection: its kind (`minor`, `major`, `incremental`, `weakcb`) and V8's flags. */
export interface GcStretch extends Stretch {
  kind: string;
  flags: number;
}

/** Gaps and collections kept for their overlap; past this a phase's later ones are not. */
export const STRETCHES_KEPT_MAX = 10_000;

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
    gc_longest_ms: gc,
    gc_in_gaps_ms: gc,
  };
}

/**
 * The time the stretches `b` overlap the stretches `a`, in ms; each list in order of start and
 * its stretches apart from each other (gaps do not overlap gaps, nor collections collections).
 */
export function overlapMs(a: readonly Stretch[], b: readonly Stretch[]): number {
  let total = 0;
  let j = 0;
  for (const x of a) {
    const xEnd = x.startMs + x.ms;
    while (j < b.length && b[j]!.startMs + b[j]!.ms <= x.startMs) j++;
    for (let k = j; k < b.length && b[k]!.startMs < xEnd; k++) {
      const y = b[k]!;
      total += Math.max(0, Math.min(xEnd, y.startMs + y.ms) - Math.max(x.startMs, y.startMs));
    }
  }
  return total;
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
  const gc = Number.isNaN(f.gcs)
    ? ""
    : `; ${f.gcs} collections, ${ms(f.gc_ms)} (longest ${ms(f.gc_longest_ms)}, ${
      ms(f.gc_in_gaps_ms)
    } of it within the gaps)`;
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
  /** The phase's gaps and collections, for their overlap (at most STRETCHES_KEPT_MAX each). */
  #gapStretches: GapStretch[] = [];
  #gcStretches: GcStretch[] = [];
  #lastMs = performance.now();
  #lastSched = schedMs();

  private constructor(options: LoopGapsOptions) {
    this.#gapMs = options.gapMs ?? 2;
    this.#gc = gcObserver((gc) => this.#onGc(gc));
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
    this.#gapStretches = [];
    this.#gcStretches = [];
  }

  /** Stops watching; the figures since the start or the last reset. */
  stop(): LoopGapFigures {
    clearInterval(this.#timer);
    if (this.#gc) {
      // Entries not yet delivered to the observer's callback.
      for (const e of this.#gc.takeRecords()) this.#onGc(gcStretch(e));
      this.#gc.disconnect();
      this.#gcStretches.sort((x, y) => x.startMs - y.startMs);
      this.#figures.gc_in_gaps_ms = overlapMs(this.#gapStretches, this.#gcStretches);
    }
    return this.#figures;
  }

  /** The gaps and collections kept since the start or the last reset, each in order. */
  stretches(): { gaps: readonly GapStretch[]; gcs: readonly GcStretch[] } {
    return { gaps: this.#gapStretches, gcs: this.#gcStretches };
  }

  #onGc(gc: GcStretch): void {
    const f = this.#figures;
    f.gcs++;
    f.gc_ms += gc.ms;
    if (gc.ms > f.gc_longest_ms) f.gc_longest_ms = gc.ms;
    if (this.#gcStretches.length < STRETCHES_KEPT_MAX) this.#gcStretches.push(gc);
  }

  #tick(): void {
    const now = performance.now(), sched = schedMs();
    const gapMs = now - this.#lastMs;
    if (gapMs > this.#gapMs) {
      const before = this.#lastSched;
      const onCpuMs = sched && before ? sched.onCpu - before.onCpu : undefined;
      const waitMs = sched && before ? sched.wait - before.wait : undefined;
      addGap(this.#figures, { gapMs, onCpuMs, waitMs });
      if (this.#gapStretches.length < STRETCHES_KEPT_MAX) {
        this.#gapStretches.push({ startMs: this.#lastMs, ms: gapMs, onCpuMs, waitMs });
      }
    }
    this.#lastMs = now;
    this.#lastSched = sched;
  }
}

/** An observer calling `onGc` with each collection's pause, or undefined where none. */
function gcObserver(onGc: (gc: GcStretch) => void): PerformanceObserver | undefined {
  // Deno lists "gc" among the entry types it takes but never reports one: its count would read 0.
  if ("Deno" in globalThis) return undefined;
  try {
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) onGc(gcStretch(e));
    });
    observer.observe({ entryTypes: ["gc"] });
    return observer;
  } catch {
    return undefined;
  }
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

/** A `gc` performance entry as a stretch with its kind and flags (Node's `detail`). */
function gcStretch(e: PerformanceEntry): GcStretch {
  const detail = (e as PerformanceEntry & { detail?: { kind?: number; flags?: number } }).detail;
  const kind = detail?.kind === undefined ? "?" : GC_KINDS[detail.kind] ?? String(detail.kind);
  return { startMs: e.startTime, ms: e.duration, kind, flags: detail?.flags ?? 0 };
}
