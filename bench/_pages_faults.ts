/**
 * `troupe bench pages`'s faults, each one a node exporter sees as a real node would show it: a CPU
 * burner (spinning processes, one or more a core), a memory balloon (a process taking memory,
 * every page written, until only a small share of the machine's memory is still available: memory
 * under pressure, the USE method's saturation, not a process merely using memory), a burst of
 * disk writes (fsync'd blocks to a file in the run's directory) and a textfile gauge stepped from
 * its level to ten times it and back. A fault is on from `start` until `stop`; its start time is
 * taken as its load begins (the balloon takes tens of seconds or minutes to fill, and its first
 * seconds already move the node), and it is held its seconds once its load is whole.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism, freemem, totalmem } from "node:os";
import { join } from "node:path";
import { ChildScript } from "./_child_script.ts";
import { BenchHaltError } from "./_bench_halt_error.ts";

/** The faults, in the order a schedule injects them. */
export const FAULT_KINDS = ["cpu", "memory", "disk", "gauge"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The textfile gauge's name, its level and its stepped level. */
export const GAUGE_METRIC = "bench_pages_gauge";
const GAUGE_LEVEL = 100;
const GAUGE_STEPPED = 1000;
/** The disk burst starts its file over at this size. */
const DISK_FILE_MIB = 256;

/** Where and how hard the faults load the node. */
export interface FaultSettings {
  /** The run's scratch directory (the disk burst's file). */
  dir: string;
  /** The node exporter's textfile collector directory. */
  textfileDir: string;
  /** The share of the machine's memory, 0 to 1, the balloon leaves available. */
  memoryLeft: number;
  /**
   * Spinning processes per core the CPU burner starts: 1 keeps every core busy (utilisation);
   * more leave that many times the cores runnable at once (saturation: a run queue past the cores).
   */
  cpuPerCore: number;
  log(message: string): void;
}

/** A fault that is on. */
export interface RunningFault {
  kind: FaultKind;
  /** When its load began, ms since the epoch. */
  startMs: number;
  /** What it does, in words (for the log). */
  what: string;
  /**
   * Whether its load is whole: the balloon once it holds all it takes (tens of seconds, or
   * minutes where the hypervisor backs a guest's memory only as it is first touched), every
   * other fault at once. A fault is held its seconds from then: a balloon stopped half full never
   * put the node under pressure.
   */
  whole(): boolean;
  stop(): Promise<void>;
}

/** Writes the gauge's textfile atomically (the collector may read it at any moment). */
export function writeGauge(textfileDir: string, value: number): void {
  const file = join(textfileDir, `${GAUGE_METRIC}.prom`);
  writeFileSync(
    `${file}.tmp`,
    `# HELP ${GAUGE_METRIC} troupe bench pages: a gauge the bench steps\n` +
      `# TYPE ${GAUGE_METRIC} gauge\n${GAUGE_METRIC} ${value}\n`,
  );
  renameSync(`${file}.tmp`, file);
}

/** The gauge at its level, before any fault (so Prometheus's history holds it). */
export function initGauge(textfileDir: string): void {
  writeGauge(textfileDir, GAUGE_LEVEL);
}

/**
 * The memory the kernel says is available now, bytes: `MemAvailable` (what can be taken without
 * swapping, page cache that can be dropped included), or the free memory where there is no
 * /proc/meminfo.
 */
function availableBytes(): number {
  try {
    const kib = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
    if (kib !== undefined) return Number(kib) * 1024;
  } catch {
    // not Linux: the free memory below
  }
  return freemem();
}

/** The balloon's size, MiB: what is available now less `left` of the machine's memory. */
function balloonMib(left: number): number {
  const bytes = availableBytes() - left * totalmem();
  if (bytes < 64 << 20) {
    throw new BenchHaltError(
      `Cannot start the memory fault: ${(availableBytes() / (1 << 30)).toFixed(1)} GiB is ` +
        `available, no more than the ${left} of memory (--memory-left) it should leave`,
    );
  }
  return Math.round(bytes / (1 << 20));
}

/**
 * Watches the balloon fill: `whole()` once it says it holds all it takes (logged with the time
 * it took), or that it was stopped first.
 */
function watchFill(balloon: ChildScript, mib: string, log: (m: string) => void): () => boolean {
  let full = false;
  balloon.next(3_600_000).then(
    (m) => {
      full = true;
      log(`the memory balloon holds its ${mib} MiB, filled in ${m.ms} ms`);
    },
    () => log(`the memory balloon was stopped before it held its ${mib} MiB`),
  );
  return () => full;
}

/** Turns fault `kind` on. */
export async function startFault(kind: FaultKind, settings: FaultSettings): Promise<RunningFault> {
  if (kind === "gauge") {
    writeGauge(settings.textfileDir, GAUGE_STEPPED);
    return {
      kind,
      whole: () => true,
      startMs: Date.now(),
      what: `${GAUGE_METRIC} stepped ${GAUGE_LEVEL} -> ${GAUGE_STEPPED}`,
      stop: () => Promise.resolve(writeGauge(settings.textfileDir, GAUGE_LEVEL)),
    };
  }
  const loads = kind === "cpu"
    ? Array.from({ length: availableParallelism() * settings.cpuPerCore }, () => ["cpu"])
    : kind === "memory"
    ? [["memory", String(balloonMib(settings.memoryLeft))]]
    : [["disk", join(settings.dir, "disk-burst.bin"), String(DISK_FILE_MIB)]];
  const startMs = Date.now();
  const children = loads.map((args) =>
    ChildScript.start("bench/_fault_load.ts", args, settings.log)
  );
  const stop = async () => {
    await Promise.all(children.map((c) => c.kill()));
  };
  try {
    await Promise.all(children.map((c) => c.next(120_000)));
  } catch (err) {
    await stop();
    throw new BenchHaltError(`Cannot start the ${kind} fault: ${(err as Error).message}`);
  }
  const whole = kind === "memory"
    ? watchFill(children[0]!, loads[0]![1]!, settings.log)
    : () => true;
  const what = kind === "cpu"
    ? `${children.length} processes spinning on ${availableParallelism()} cores`
    : kind === "memory"
    ? `a process holding ${loads[0]![1]} MiB, every page written, leaving ` +
      `${settings.memoryLeft} of memory available`
    : `4 MiB blocks written and fsync'd to a file, over ${DISK_FILE_MIB} MiB`;
  return { kind, startMs, what, whole, stop };
}
