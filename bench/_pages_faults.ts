/**
 * `troupe bench pages`'s faults, each one a node exporter sees as a real node would show it: a CPU
 * burner (a spinning process per core), a memory balloon (a process holding a share of the
 * machine's memory, every page written), a burst of disk writes (fsync'd blocks to a file in the
 * run's directory) and a textfile gauge stepped from its level to ten times it and back. A fault
 * is on from `start` until `stop`; its start time is taken once its load is on.
 */
import { renameSync, writeFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
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
  /** The memory balloon's share of the machine's memory, 0 to 1. */
  memoryShare: number;
  log(message: string): void;
}

/** A fault that is on. */
export interface RunningFault {
  kind: FaultKind;
  /** When its load was on, ms since the epoch. */
  startMs: number;
  /** What it does, in words (for the log). */
  what: string;
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

/** Turns fault `kind` on. */
export async function startFault(kind: FaultKind, settings: FaultSettings): Promise<RunningFault> {
  if (kind === "gauge") {
    writeGauge(settings.textfileDir, GAUGE_STEPPED);
    return {
      kind,
      startMs: Date.now(),
      what: `${GAUGE_METRIC} stepped ${GAUGE_LEVEL} -> ${GAUGE_STEPPED}`,
      stop: () => Promise.resolve(writeGauge(settings.textfileDir, GAUGE_LEVEL)),
    };
  }
  const loads = kind === "cpu"
    ? Array.from({ length: availableParallelism() }, () => ["cpu"])
    : kind === "memory"
    ? [["memory", String(Math.round((totalmem() * settings.memoryShare) / (1 << 20)))]]
    : [["disk", join(settings.dir, "disk-burst.bin"), String(DISK_FILE_MIB)]];
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
  const what = kind === "cpu"
    ? `${children.length} processes spinning`
    : kind === "memory"
    ? `a process holding ${loads[0]![1]} MiB, every page written`
    : `4 MiB blocks written and fsync'd to a file, over ${DISK_FILE_MIB} MiB`;
  return { kind, startMs: Date.now(), what, stop };
}
