/**
 * Runs uvu suites in this process, on whichever runtime started it (Node through tsx, or Deno),
 * and prints a machine-readable count of files that failed to load, which uvu cannot see.
 * Used by tests/run.mjs; run it directly to debug: `node --import tsx tests/_harness.ts FILE...`.
 */
import process from "node:process";
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: unknown[][]; UVU_INDEX: number };
g.UVU_DEFER = 1;
g.UVU_QUEUE = [];
const uvu = await import("uvu");

let loadFailures = 0;
const files = process.argv.slice(2);
for (const [index, file] of files.entries()) {
  g.UVU_INDEX = index;
  g.UVU_QUEUE.push([file]);
  try {
    await import(pathToFileURL(resolve(file)).href);
  } catch (err) {
    loadFailures++;
    console.error(`\n  FAIL  ${file} could not be loaded: ${(err as Error).stack ?? err}\n`);
  }
}
// Each file's time, to say which files the run's time goes to, and this process's CPU in it
// (its children's apart): a file whose CPU is a small share of its time waits.
const seconds = new Map<string, number>();
const cpuSeconds = new Map<string, number>();
for (const group of g.UVU_QUEUE) {
  const file = group[0] as string;
  for (let i = 1; i < group.length; i++) {
    const run = group[i] as () => Promise<unknown>;
    group[i] = async () => {
      const t0 = performance.now(), cpu0 = process.cpuUsage();
      try {
        return await run();
      } finally {
        seconds.set(file, (seconds.get(file) ?? 0) + (performance.now() - t0) / 1000);
        const cpu = process.cpuUsage(cpu0);
        cpuSeconds.set(file, (cpuSeconds.get(file) ?? 0) + (cpu.user + cpu.system) / 1e6);
      }
    };
  }
}
await uvu.exec(false);
const slowest = [...seconds].sort((a, b) => b[1] - a[1]).slice(0, 12);
console.log(
  `Slowest files:\n${slowest.map(([f, s]) => `  ${s.toFixed(1).padStart(6)} s  ${f}`).join("\n")}`,
);
// TROUPE_TEST_TIMES=PATH writes every file's seconds and CPU seconds to PATH.<runtime>.json.
const timesPath = process.env.TROUPE_TEST_TIMES;
if (timesPath) {
  const rows = [...seconds].map(([file, s]) => ({ file, s, cpu_s: cpuSeconds.get(file) ?? 0 }));
  const runtime = process.env.TROUPE_TEST_RUNTIME ?? "node";
  writeFileSync(`${timesPath}.${runtime}.json`, JSON.stringify(rows, null, 1));
}
console.log(`@@load-failures ${loadFailures}`);
// Suites must clean up after themselves; a leaked handle must not hang the run.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref?.();
