/**
 * Test support: runs the `troupe` command as a child process on the runtime the tests run on
 * (Node through cli/troupe.mjs, or Deno on cli/main.ts), so the command is tested as users run it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import process from "node:process";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The command line that runs troupe on this test run's runtime. */
export function troupeCommand(args: string[]): [string, string[]] {
  if (process.env.TROUPE_TEST_RUNTIME === "deno") {
    return [join(ROOT, "node_modules/.bin/deno"), [
      "run",
      "-A",
      "--quiet",
      join(ROOT, "cli/main.ts"),
      ...args,
    ]];
  }
  return [process.execPath, [join(ROOT, "cli/troupe.mjs"), ...args]];
}

/** Runs troupe to completion and returns its exit code and output. */
export function runTroupe(
  args: string[],
  options: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, cmdArgs] = troupeCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
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

/** Starts troupe in the background. */
export function startTroupe(args: string[], cwd = ROOT): RunningTroupe {
  const [cmd, cmdArgs] = troupeCommand(args);
  const child = spawn(cmd, cmdArgs, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => resolve(code))
  );
  return {
    child,
    output: () => out,
    exited,
    signal(name) {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(child.pid, name);
      } catch (err) {
        // Gone already (it exited, its exit not yet seen): a signal to it is moot, and throwing
        // here (in a test's `finally`, say) would hide the failure that made it exit.
        if ((err as { code?: string }).code !== "ESRCH") throw err;
      }
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
        if (child.exitCode !== null) {
          throw new Error(`troupe exited (${child.exitCode}) before "${text}":\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
