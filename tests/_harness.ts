/**
 * Runs uvu suites in this process, on whichever runtime started it (Node through tsx, or Deno),
 * one file after another, and prints uvu's totals and a machine-readable count of files that
 * failed to load (which uvu cannot see); with TROUPE_TEST_TIMES_FILE, it writes every file's times
 * there. Used by tests/run.mjs; run it directly to debug: `node --import tsx tests/_harness.ts
 * FILE...`.
 *
 * With `--queue DIR`, several of these processes share the files: each runs those it claims, a
 * file at a time, by creating `DIR/<its index>` (exclusively: one process gets each) and writing
 * its lane (TROUPE_TEST_LANE) there, so that tests/run.mjs can name the file a lane that died ran.
 *
 * An error no test catches (an unhandled rejection, a throw from a timer) is a failure of the file
 * running: it is printed with that file's name and counted, and the run goes on, where it would
 * otherwise end the process and every file after it on that lane.
 */
import process from "node:process";
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join, resolve } from "node:path";

/** A suite's run as uvu queues it: its failures' text (`true`: none), tests run, skipped, all. */
type UvuRun = () => Promise<[errors: string | true, ran: number, skipped: number, total: number]>;
const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: unknown[][]; UVU_INDEX: number };
g.UVU_DEFER = 1;
g.UVU_QUEUE = [];
await import("uvu");

const args = process.argv.slice(2);
const queueAt = args.indexOf("--queue");
const queue = queueAt < 0 ? undefined : args[queueAt + 1];
const files = queueAt < 0 ? args : args.filter((_, i) => i !== queueAt && i !== queueAt + 1);

/** Whether this process takes file `index`: always alone, once claimed in a shared queue. */
function claim(index: number): boolean {
  if (queue === undefined) return true;
  try {
    const fd = openSync(join(queue, String(index)), "wx");
    writeSync(fd, process.env.TROUPE_TEST_LANE ?? "");
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST") return false;
    throw err;
  }
}

/**
 * The CPU seconds of this process's children that have ended (and of theirs), from
 * /proc/self/stat; 0 where there is no /proc.
 */
function childrenCpuSeconds(): number {
  try {
    // The fields after the command's closing parenthesis; cutime and cstime are the 14th and 15th.
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Each file's time, to say which files the run's time goes to, this process's CPU in it and its
 * children's (the servers, browsers and troupe commands it started and saw end): a file whose CPU
 * is a small share of its time waits.
 */
interface FileTimes {
  file: string;
  s: number;
  cpu_s: number;
  children_cpu_s: number;
}

const t0 = performance.now();
/** Files that did not load, and errors no test caught: failures outside uvu's count. */
let outsideFailures = 0, total = 0, passed = 0, skipped = 0, failed = false;
const times: FileTimes[] = [];
/** The file running, if any: named if the process ends before the run does. */
let running: string | undefined;
process.on("exit", (code) => {
  if (running !== undefined) {
    console.error(`\n  FAIL  the test process is ending (code ${code}) while ${running} runs\n`);
  }
});
/** The handler of `what` (an error no test caught): the running file fails, the run goes on. */
function uncaught(what: string) {
  return (err: unknown) => {
    outsideFailures++;
    const where = running ?? "no file";
    console.log(`\n  FAIL  ${what} while ${where} runs: ${(err as Error)?.stack ?? err}\n`);
  };
}
process.on("uncaughtException", uncaught("an uncaught exception"));
process.on("unhandledRejection", uncaught("an unhandled rejection"));
// Holds the event loop for the whole run: a test waiting on what does not hold it (a timer or a
// worker that is unref'd) is waited for, as it is in a process with other files' servers open,
// rather than ending the process (Node: code 13, an unsettled top-level await).
const holdLoop = setInterval(() => {}, 60_000);
for (const [index, file] of files.entries()) {
  if (!claim(index)) continue;
  running = file;
  g.UVU_INDEX = g.UVU_QUEUE.length;
  g.UVU_QUEUE.push([file]);
  const group = g.UVU_QUEUE.at(-1)!;
  const started = performance.now(), cpu0 = process.cpuUsage(), children0 = childrenCpuSeconds();
  try {
    await import(pathToFileURL(resolve(file)).href);
  } catch (err) {
    outsideFailures++;
    console.error(`\n  FAIL  ${file} could not be loaded: ${(err as Error).stack ?? err}\n`);
  }
  // As uvu's exec runs its queue: the file's name, then each suite's tests and what failed.
  if (total) console.log();
  console.log(file);
  for (const run of group.slice(1) as UvuRun[]) {
    const [errors, ran, skips, max] = await run();
    total += max;
    passed += ran;
    skipped += skips;
    if (errors !== true && errors.length) {
      console.log(`\n${errors}`);
      failed = true;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  times.push({
    file,
    s: (performance.now() - started) / 1000,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    children_cpu_s: childrenCpuSeconds() - children0,
  });
}
running = undefined;
clearInterval(holdLoop);
console.log(`\n  Total:     ${total}`);
console.log(`  Passed:    ${passed}`);
console.log(`  Skipped:   ${skipped}`);
console.log(`  Duration:  ${(performance.now() - t0).toFixed(2)}ms\n`);
if (failed) process.exitCode = 1;
console.log(`@@outside-failures ${outsideFailures}`);
// tests/run.mjs reads them from TROUPE_TEST_TIMES_FILE.
const timesFile = process.env.TROUPE_TEST_TIMES_FILE;
if (timesFile) writeFileSync(timesFile, JSON.stringify(times));
// Suites must clean up after themselves; a leaked handle must not hang the run.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref?.();
