/** CPU time for the timed benchmarks. */
import process from "node:process";

/**
 * This process's CPU time (user and system, every thread) in milliseconds since `from` (a
 * `process.cpuUsage()` reading), or since it started.
 */
export function cpuMs(from?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
}
