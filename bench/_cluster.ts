/**
 * Shared parts of the cluster-core benchmarks (pipeline, latency, codec, recovery): the actor kind
 * `--actor` names (a usage error when unknown), a nats-server for the run,
 * child scripts started on the same runtime as the benchmark and spoken to in JSON lines,
 * temporary directories, the process's peak memory and small statistics.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { findNatsServer, NatsServer } from "../actors/runtime/mod.ts";
import { BenchOptionError, nowMs } from "./_bench.ts";

/**
 * The root of the sources this module runs from: the repository, or on Node the compiled mirror
 * of it that cli/_compile.mjs keeps under `node_modules/.cache/troupe/js-<hash>/`.
 */
const SOURCE_DIR = fileURLToPath(new URL("../", import.meta.url));

/** Whether this module runs from the compiled mirror (JavaScript, no tsx needed). */
const COMPILED = import.meta.url.endsWith(".js");

/** The repository's root directory (where `.troupe/` and `../shared` are found). */
export const REPO_DIR = COMPILED ? join(SOURCE_DIR, "..", "..", "..", "..") : SOURCE_DIR;

/** The actor kind registered under `name` in ACTOR_KINDS; a BenchOptionError naming the known kinds otherwise. */
export function actorKind(name: string): AnyActorDefinition {
  const def = Object.hasOwn(ACTOR_KINDS, name) ? ACTOR_KINDS[name] : undefined;
  if (!def) {
    throw new BenchOptionError(
      `Option --actor names an unknown actor kind "${name}"; known kinds: ${
        Object.keys(ACTOR_KINDS).sort().join(", ")
      }`,
    );
  }
  return def;
}

/** Starts a nats-server (no JetStream) for one benchmark run; a clear error when it is missing. */
export function startBenchNats(bench: string): Promise<NatsServer> {
  if (!findNatsServer()) {
    throw new Error(
      `Cannot run benchmark "${bench}": nats-server is not installed (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server)`,
    );
  }
  return NatsServer.start();
}

/** True on Deno, where a child script runs as `deno run -A`. */
const IS_DENO = "Deno" in globalThis;

/**
 * The command line that runs the TypeScript file `script` (relative to the repository) here.
 * `TROUPE_BENCH_CHILD_FLAGS` (space-separated) adds runtime flags, e.g. `--cpu-prof` to profile
 * the injector.
 */
export function scriptCommand(script: string, args: readonly string[]): [string, string[]] {
  const flags = (process.env.TROUPE_BENCH_CHILD_FLAGS ?? "").split(" ").filter(Boolean);
  if (IS_DENO) {
    return [process.execPath, ["run", "-A", ...flags, join(SOURCE_DIR, script), ...args]];
  }
  if (COMPILED) {
    const path = join(SOURCE_DIR, script.replace(/\.ts$/, ".js"));
    return [process.execPath, [...flags, path, ...args]];
  }
  const path = join(SOURCE_DIR, script);
  return [process.execPath, [...flags, "--import", import.meta.resolve("tsx"), path, ...args]];
}

/** A JSON message a child script printed on one line of its stdout. */
export type ChildMessage = Record<string, unknown>;

/**
 * A child process running one of the benchmark's scripts. It prints one JSON object per line on
 * stdout; its stderr goes to the benchmark's log. `send` writes a line to its stdin.
 */
export class ChildScript {
  readonly #child: ChildProcess;
  readonly #queue: ChildMessage[] = [];
  readonly #waiters: Array<{ resolve(m: ChildMessage): void; reject(e: Error): void }> = [];
  readonly #exited: Promise<number | null>;
  readonly #name: string;
  #exitError: Error | undefined;

  private constructor(name: string, child: ChildProcess, log: (m: string) => void) {
    this.#name = name;
    this.#child = child;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let message: ChildMessage;
      try {
        message = JSON.parse(line) as ChildMessage;
      } catch {
        log(`${name}: ${line}`);
        return;
      }
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(message);
      else this.#queue.push(message);
    });
    createInterface({ input: child.stderr! }).on("line", (line) => log(`${name}: ${line}`));
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exitError = new Error(
          `${name} exited (code ${code}, signal ${signal}) before it answered`,
        );
        for (const w of this.#waiters.splice(0)) w.reject(this.#exitError);
        resolve(code);
      });
    });
  }

  /** Starts `script` (a path relative to the repository) with `args`. */
  static start(script: string, args: readonly string[], log: (m: string) => void): ChildScript {
    const [cmd, argv] = scriptCommand(script, args);
    const child = spawn(cmd, argv, { cwd: REPO_DIR, stdio: ["pipe", "pipe", "pipe"] });
    return new ChildScript(script, child, log);
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The next message the child prints, within `timeoutMs`. */
  next(timeoutMs = 30_000): Promise<ChildMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#exitError) return Promise.reject(this.#exitError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`${this.#name} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: (m: ChildMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** Waits for the child to exit; kills it after `graceMs`. */
  async wait(graceMs = 10_000): Promise<number | null> {
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    const code = await this.#exited;
    clearTimeout(timer);
    return code;
  }

  /** Kills the child (if it still runs) and waits for it. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill("SIGKILL");
    }
    await this.#exited;
  }
}

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

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

/** Measures the CPU share of processes over an interval: `stop()` gives percent of one core each. */
export function cpuMeter(pids: Record<string, number | undefined>): () => string {
  const t0 = nowMs();
  const start = Object.entries(pids).map(([name, pid]) => [name, pid, processCpuMs(pid)] as const);
  return () => {
    const dt = nowMs() - t0;
    return start.map(([name, pid, c0]) => {
      const c1 = processCpuMs(pid);
      return c0 === undefined || c1 === undefined
        ? `${name} ?`
        : `${name} ${((100 * (c1 - c0)) / dt).toFixed(0)}%`;
    }).join(", ");
  };
}

/** The median of `xs` (NaN when empty). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Formats a count with three significant digits and a k/M/G suffix, for progress lines. */
export function human(x: number): string {
  // Rounded first: 999,999.6 is "1.00M", not "1.00e+3k".
  const a = Math.abs(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${(x / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(x / 1e3).toPrecision(3)}k`;
  return x.toPrecision(3);
}
