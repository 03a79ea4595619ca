#!/usr/bin/env node
// The test command: runs every uvu suite under tests/ on Node (through tsx) and on Deno, from one
// source, and ends with one line `N passed, N failed, N skipped`.
//
//   npm test                      all suites, both runtimes
//   npm test -- tests/protocol    the suites under a folder (or single files)
//   npm test -- --node | --deno   one runtime
//   npm test -- --serial          both runtimes one after the other (default: side by side, each
//                                 runtime's output printed whole when it finishes)
//   npm test -- --lanes=N         N test processes per runtime, sharing its files (default 2)
//   TROUPE_TEST_TIMES=/tmp/t npm test   and every file's seconds and CPU seconds (the test
//                                 process's, and its children's) to /tmp/t.node.json and
//                                 /tmp/t.deno.json
import { spawn } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const runtimes = args.includes("--node")
  ? ["node"]
  : args.includes("--deno")
  ? ["deno"]
  : ["node", "deno"];
const serial = args.includes("--serial") || runtimes.length === 1;
const roots = args.filter((a) => !a.startsWith("--"));
/**
 * Test processes per runtime, each running one file at a time. Most files wait on servers, child
 * processes and timers: two runtimes side by side left the two cores 40-50% idle, and two files a
 * runtime at once takes each file up to 1.6 times as long (most under 1.2) and the whole about
 * half the time.
 */
const LANES_DEFAULT = 2;
const lanesArg = args.find((a) => a.startsWith("--lanes="));
const lanes = lanesArg === undefined ? LANES_DEFAULT : Number(lanesArg.slice("--lanes=".length));
if (!Number.isInteger(lanes) || lanes < 1) {
  console.error(`--lanes must be a whole number of at least 1, got "${lanesArg}"`);
  process.exit(2);
}

function find(path) {
  const st = statSync(path);
  if (st.isFile()) return path.endsWith(".test.ts") ? [path] : [];
  return readdirSync(path).sort().flatMap((name) =>
    name === "node_modules" || name.startsWith(".") ? [] : find(join(path, name))
  );
}
// examples/ holds actors written as a user writes them, each with its tests.
const files = (roots.length ? roots : [join(root, "tests"), join(root, "examples")])
  .flatMap((p) => find(p))
  .map((f) => relative(root, f));
if (files.length === 0) {
  console.error(`No test files (*.test.ts) under ${roots.join(", ") || "tests/"}`);
  process.exit(2);
}

// deno-lint-ignore no-control-regex
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

/**
 * Runs one test process of `runtime` on `files` (with `queue`, those it claims from it) and
 * resolves with its counts, its output and its files' times (which it writes to `timesFile`).
 * `live` prints its output as it comes, else it is returned whole.
 */
function runLane(runtime, { lane, queue, timesFile, live }) {
  const denoBin = join(root, "node_modules", ".bin", "deno");
  const harness = ["tests/_harness.ts", ...(queue ? ["--queue", queue] : []), ...files];
  const [cmd, cmdArgs] = runtime === "node"
    // `troupe-source`: "troupe" (as the examples import it) resolves to the TypeScript sources.
    ? [process.execPath, ["--conditions=troupe-source", "--import", "tsx", ...harness]]
    : [denoBin, ["run", "-A", "--quiet", ...harness]];
  return new Promise((done) => {
    const child = spawn(cmd, cmdArgs, {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        FORCE_COLOR: "0",
        NO_COLOR: "1",
        TROUPE_TEST_RUNTIME: runtime,
        TROUPE_TEST_TIMES_FILE: timesFile,
        TROUPE_TEST_LANE: String(lane),
      },
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (live) process.stdout.write(chunk);
    });
    child.on("error", (err) => {
      console.error(`Cannot start ${runtime}: ${err.message}`);
      done({ total: 1, passed: 0, skipped: 0, out, times: [] });
    });
    child.on("close", (code, signal) => {
      const text = strip(out);
      const num = (label) => {
        const m = text.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, "m"));
        return m ? Number(m[1]) : undefined;
      };
      const total = num("Total");
      const passed = num("Passed");
      const skipped = num("Skipped") ?? 0;
      const outside = Number(text.match(/^@@outside-failures (\d+)/m)?.[1] ?? 1);
      let times = [];
      try {
        times = JSON.parse(readFileSync(timesFile, "utf8"));
      } catch {
        // It ended before it wrote them.
      }
      if (total === undefined || passed === undefined) {
        const how = signal ? `was killed by ${signal}` : `exited (code ${code})`;
        const where = lastFile(queue, lane, text);
        const died = `${runtime} lane ${lane} ${how} before reporting totals, ${where}`;
        console.error(died);
        done({ total: 1 + outside, passed: 0, skipped, out, times, died });
        return;
      }
      // A process that failed without a failing test (a crash after the run) still fails.
      const extra = code !== 0 && total === passed ? 1 : 0;
      done({ total: total + outside + extra, passed, skipped, out, times });
    });
  });
}

/**
 * Which file a lane that died was running: the highest-numbered file it claimed in `queue` (see
 * tests/_harness.ts), or without a queue the file after the last one its output names.
 */
function lastFile(queue, lane, text) {
  if (queue) {
    const mine = readdirSync(queue).map(Number).filter((i) =>
      readFileSync(join(queue, String(i)), "utf8") === String(lane)
    );
    return mine.length ? `running ${files[Math.max(...mine)]}` : "before its first file";
  }
  const named = text.split("\n").filter((line) => files.includes(line.trim())).at(-1);
  return named === undefined ? "in its first file" : `in or after ${named.trim()}`;
}

/** Runs every file on `runtime`, in `lanes` processes that share them, and sums their counts. */
async function runOn(runtime) {
  const header = `\n=== ${runtime}: ${files.length} test files ===\n`;
  const count = Math.min(lanes, files.length);
  const live = serial && count === 1;
  if (serial) process.stdout.write(header);
  else console.log(`${runtime}: ${files.length} test files started`);
  const started = performance.now();
  // The queue the lanes claim files from (see tests/_harness.ts), and their times.
  const dir = mkdtempSync(join(tmpdir(), `troupe-test-${runtime}-`));
  const queue = join(dir, "queue");
  mkdirSync(queue);
  let results;
  try {
    results = await Promise.all(Array.from({ length: count }, (_, i) =>
      runLane(runtime, {
        lane: i,
        queue: count > 1 ? queue : undefined,
        timesFile: join(dir, `times-${i}.json`),
        live,
      })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!serial) process.stdout.write(header);
  if (!live) { for (const r of results) process.stdout.write(r.out); }
  const times = results.flatMap((r) => r.times);
  const slowest = [...times].sort((a, b) => b.s - a.s).slice(0, 12);
  console.log(
    `Slowest files:\n${
      slowest.map((t) => `  ${t.s.toFixed(1).padStart(6)} s  ${t.file}`).join("\n")
    }`,
  );
  // TROUPE_TEST_TIMES=PATH writes every file's seconds and CPU seconds to PATH.<runtime>.json.
  const timesPath = process.env.TROUPE_TEST_TIMES;
  if (timesPath) writeFileSync(`${timesPath}.${runtime}.json`, JSON.stringify(times, null, 1));
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  console.log(`${runtime}: finished in ${minutes} min`);
  const sum = (key) => results.reduce((n, r) => n + r[key], 0);
  const died = results.flatMap((r) => r.died ? [r.died] : []);
  return { total: sum("total"), passed: sum("passed"), skipped: sum("skipped"), died };
}

let passed = 0, failed = 0, skipped = 0;
// Most suites wait on servers, sockets and child processes, so two runtimes side by side take
// little longer than the slower one alone.
const results = [];
if (serial) { for (const runtime of runtimes) results.push([runtime, await runOn(runtime)]); }
else {
  const all = await Promise.all(runtimes.map((runtime) => runOn(runtime)));
  all.forEach((r, i) => results.push([runtimes[i], r]));
}
for (const [runtime, r] of results) {
  passed += r.passed;
  failed += r.total - r.passed;
  skipped += r.skipped;
  console.log(`${runtime}: ${r.passed} passed, ${r.total - r.passed} failed, ${r.skipped} skipped`);
  for (const died of r.died) console.log(`  ${died}`);
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
