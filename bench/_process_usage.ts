/**
 * What processes use while a benchmark runs: this process's memory now and at its peak, and the
 * CPU share of any process (its own children included) over an interval.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { nowMs } from "./_bench.ts";

/** This process's resident set size now, in MiB. */
export function rssNowMb(): number {
  return process.memoryUsage().rss / (1 << 20);
}

/**
 * This process's peak resident set size so far, in MiB (getrusage's maxrss), or undefined where
 * the runtime does not report it.
 */
export function rssPeakMb(): number | undefined {
  try {
    const kib = process.resourceUsage().maxRSS;
    return kib > 0 ? kib / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) a process has used so far, in milliseconds, read from
 * `/proc/<pid>/stat`; undefined where that is not available (not Linux, process gone).
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time one thread has used so far, in milliseconds (nanosecond counts), read from Linux's
 * `/proc/<pid>/task/<tid>/schedstat`; a process's main thread has `tid` = `pid`. Undefined where
 * that is not available (not Linux, thread gone).
 */
export function threadCpuMs(pid: number | undefined, tid = pid): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "latin1").split(" ")[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Measures the CPU share of processes over an interval: the function it returns gives each one's
 * percent of one core since the call, or undefined where its CPU time cannot be read.
 */
export function cpuShares(
  pids: Record<string, number | undefined>,
): () => Record<string, number | undefined> {
  const t0 = nowMs();
  const start = Object.entries(pids).map(([name, pid]) => [name, pid, processCpuMs(pid)] as const);
  return () => {
    const dt = nowMs() - t0;
    return Object.fromEntries(start.map(([name, pid, c0]) => {
      const c1 = processCpuMs(pid);
      return [name, c0 === undefined || c1 === undefined ? undefined : (100 * (c1 - c0)) / dt];
    }));
  };
}

/** The shares of `cpuShares` as text: `name 42%, other ?`. */
export function formatCpuShares(shares: Record<string, number | undefined>): string {
  return Object.entries(shares)
    .map(([name, pct]) => (pct === undefined ? `${name} ?` : `${name} ${pct.toFixed(0)}%`))
    .join(", ");
}

/**
 * Measures the CPU share of processes over an interval: `stop()` gives percent of one core each.
 */
export function cpuMeter(pids: Record<string, number | undefined>): () => string {
  const shares = cpuShares(pids);
  return () => formatCpuShares(shares());
}

/** This process's CPU (every thread) since `from`, over `elapsedMs`, in % of one core. */
export function cpuPercent(from: ReturnType<typeof process.cpuUsage>, elapsedMs: number): number {
  const d = process.cpuUsage(from);
  return Math.round(((d.user + d.system) / 1000 / elapsedMs) * 100);
}

/** A process's resident set size now, in MiB, from `/proc/<pid>/status`; NaN where unreadable. */
export function processRssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
