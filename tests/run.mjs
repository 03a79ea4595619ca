#!/usr/bin/env node
// The test command: runs every uvu suite under tests/ on Node (through tsx) and on Deno, from one
// source, and ends with one line `N passed, N failed, N skipped`.
//
//   npm test                      all suites, both runtimes
//   npm test -- tests/protocol    the suites under a folder (or single files)
//   npm test -- --node | --deno   one runtime
//   npm test -- --serial          both runtimes one after the other (default: side by side, each
//                                 runtime's output printed whole when it finishes)
//   TROUPE_TEST_TIMES=/tmp/t npm test   and every file's seconds and CPU seconds (the test
//                                 process's) to /tmp/t.node.json and /tmp/t.deno.json
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
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
function runOn(runtime) {
  const denoBin = join(root, "node_modules", ".bin", "deno");
  const [cmd, cmdArgs] = runtime === "node"
    // `troupe-source`: "troupe" (as the examples import it) resolves to the TypeScript sources.
    ? [process.execPath, [
      "--conditions=troupe-source",
      "--import",
      "tsx",
      "tests/_harness.ts",
      ...files,
    ]]
    : [denoBin, ["run", "-A", "--quiet", "tests/_harness.ts", ...files]];
  const header = `\n=== ${runtime}: ${files.length} test files ===\n`;
  if (serial) process.stdout.write(header);
  else console.log(`${runtime}: ${files.length} test files started`);
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(cmd, cmdArgs, {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", TROUPE_TEST_RUNTIME: runtime },
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (serial) process.stdout.write(chunk);
    });
    child.on("error", (err) => {
      console.error(`Cannot start ${runtime}: ${err.message}`);
      done({ total: 1, passed: 0, skipped: 0 });
    });
    child.on("close", (code) => {
      if (!serial) process.stdout.write(header + out);
      const minutes = ((performance.now() - started) / 60_000).toFixed(1);
      console.log(`${runtime}: finished in ${minutes} min`);
      const text = strip(out);
      const num = (label) => {
        const m = text.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, "m"));
        return m ? Number(m[1]) : undefined;
      };
      const total = num("Total");
      const passed = num("Passed");
      const skipped = num("Skipped") ?? 0;
      const loadFailures = Number(text.match(/^@@load-failures (\d+)/m)?.[1] ?? 1);
      if (total === undefined || passed === undefined) {
        console.error(`${runtime}: the test process exited (code ${code}) before reporting totals`);
        done({ total: 1 + loadFailures, passed: 0, skipped });
        return;
      }
      // A process that failed without a failing test (a crash after the run) still fails.
      const extra = code !== 0 && total === passed ? 1 : 0;
      done({ total: total + loadFailures + extra, passed, skipped });
    });
  });
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
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
