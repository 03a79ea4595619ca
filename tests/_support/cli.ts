/**
 * Test support: runs the `troupe` command as a child process on the runtime the tests run on
 * (Node through cli/troupe.mjs, or Deno on cli/main.ts), so the command is tested as users run it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import process from "node:process";
import { mallocTunablesFor } from "../../actors/runtime/host/heap_flags.mjs";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The command line that runs troupe on this test run's runtime; with `preload`, that module is
 * loaded first (node --import, deno run --preload).
 */
export function troupeCommand(args: string[], preload?: string): [string, string[]] {
  if (process.env.TROUPE_TEST_RUNTIME === "deno") {
    return [join(ROOT, "node_modules/.bin/deno"), [
      "run",
      "-A",
      "--quiet",
      ...(preload ? ["--preload", preload] : []),
      join(ROOT, "cli/main.ts"),
      ...args,
    ]];
  }
  return [process.execPath, [
    ...(preload ? ["--import", preload] : []),
    join(ROOT, "cli/troupe.mjs"),
    ...args,
  ]];
}

/**
 * How long `runTroupe` lets a run take before it kills it: a run that ends in about a second on a
 * quiet machine once took over 60 s at a load of 31 (3a0780d); a hang is still caught.
 */
const RUN_TIMEOUT_MS_DEFAULT = 120_000;

/**
 * Sends `name` to the child by its pid. Not `child.kill()`: Deno's ChildProcess takes a signal it
 * managed to send for the cause of the exit, so a child that had just exited 0, its exit not yet
 * seen, was reported as exit code null (killed by the signal); Node reports the code it exited
 * with either way, and so does Deno when the signal goes through `process.kill`.
 */
function signalChild(child: ChildProcess, name: "SIGTERM" | "SIGINT" | "SIGKILL"): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, name);
  } catch (err) {
    // Gone already (it exited, its exit not yet seen): a signal to it is moot, and throwing
    // here (in a test's `finally`, say) would hide the failure that made it exit.
    if ((err as { code?: string }).code !== "ESRCH") throw err;
  }
}

/**
 * Runs troupe to completion and returns its exit code and output. A run still going after
 * `timeoutMs` is killed; its code is then null, and its stderr ends with a line saying so (a bare
 * null code in a failed check, under load, was once all there was to see of such a timeout).
 */
export function runTroupe(
  args: string[],
  options: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, cmdArgs] = troupeCommand(args);
  const timeoutMs = options.timeoutMs ?? RUN_TIMEOUT_MS_DEFAULT;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signalChild(child, "SIGKILL");
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === null) {
        stderr += `\n[runTroupe: troupe ${args.join(" ")} ended by ${signal}` +
          (timedOut ? `, sent by runTroupe: it had not exited within ${timeoutMs} ms]` : "]");
      }
      resolve({ code, stdout, stderr });
    });
  });
}

/** A troupe child process that keeps running, with its output collected. */
export interface RunningTroupe {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** The exit code, or an error naming the wait and the output if it has not exited within
   *  `timeoutMs` (a check awaiting `exited` alone hung the suite when the process never exited). */
  exitCode(timeoutMs?: number): Promise<number | null>;
  /** Sends a signal to the process (process.kill: Deno's ChildProcess.kill does not deliver
   *  SIGTERM as a plain signal the child can handle). */
  signal(name: "SIGTERM" | "SIGINT" | "SIGKILL"): void;
  /**
   * Asks it to stop (SIGINT), then kills it if it has not exited within `graceMs`: for a test's
   * `finally`, so that a failed check still lets `troupe up` stop the nats-server it started
   * (a plain SIGKILL left that server running, holding port 4222).
   */
  stop(graceMs?: number): Promise<void>;
}

/** The troupe processes started in the background and not seen to exit yet. */
const running = new Set<ChildProcess>();
let hooked = false;

/**
 * Asks what a test process leaves running to stop when it ends (SIGINT: `troupe up` then stops
 * the nats-server it started): a test process that dies of an uncaught error runs no test's
 * `finally`, and on Node its troupe processes ran on.
 */
function stopOnExit(): void {
  for (const child of running) signalChild(child, "SIGINT");
  running.clear();
}

/**
 * The Node flags of cli/troupe.mjs's `#!` line (`#!/usr/bin/env -S NAME=VALUE node FLAGS`),
 * which the installed `troupe` command runs with and `node cli/troupe.mjs` does not.
 */
export function shebangFlags(): string[] {
  const first = readFileSync(join(ROOT, "cli/troupe.mjs"), "utf8").split("\n")[0]!;
  const words = first.split(/\s+/);
  const at = words.indexOf("node");
  if (!first.startsWith("#!") || at < 0) throw new Error(`cli/troupe.mjs: no node in ${first}`);
  return words.slice(at + 1);
}

/**
 * Starts troupe in the background. With `shebang` (Node), with the Node flags and the
 * environment of the command's `#!` line, as `npx troupe` runs it; with `stdin`, its standard
 * input is `child.stdin`; with `preload`, that module loaded first; `env` over this process's
 * environment.
 */
export function startTroupe(
  args: string[],
  cwd = ROOT,
  options: {
    shebang?: boolean;
    stdin?: boolean;
    preload?: string;
    env?: Record<string, string>;
  } = {},
): RunningTroupe {
  const [cmd, plain] = troupeCommand(args, options.preload);
  const cmdArgs = options.shebang ? [...shebangFlags(), ...plain] : plain;
  const stdin = options.stdin ? "pipe" : "ignore";
  const child = spawn(cmd, cmdArgs, {
    cwd,
    stdio: [stdin, "pipe", "pipe"],
    env: {
      ...process.env,
      ...(options.shebang ? { GLIBC_TUNABLES: mallocTunablesFor(process.env.GLIBC_TUNABLES) } : {}),
      ...options.env,
    },
  });
  if (!hooked) process.once("exit", stopOnExit);
  hooked = true;
  running.add(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      running.delete(child);
      resolve(code);
    })
  );
  return {
    child,
    output: () => out,
    exited,
    async exitCode(timeoutMs = 30_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) =>
        timer = setTimeout(
          () => reject(new Error(`troupe ${args[0]} did not exit within ${timeoutMs} ms:\n${out}`)),
          timeoutMs,
        )
      );
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    signal(name) {
      signalChild(child, name);
    },
    async stop(graceMs = 10_000) {
      this.signal("SIGINT");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      this.signal("SIGKILL");
    },
    async waitFor(text, timeoutMs = 30_000) {
      const t0 = Date.now();
      while (!out.includes(text)) {
        if (Date.now() - t0 > timeoutMs) {
          throw new Error(`Timed out waiting for "${text}" in:\n${out}`);
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `troupe exited (${child.exitCode ?? child.signalCode}) before "${text}":\n${out}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** The values of NDJSON output (one JSON value a line, as `--json` lists print them). */
export function ndjson(stdout: string): unknown[] {
  return stdout.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}
