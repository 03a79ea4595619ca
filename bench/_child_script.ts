/**
 * Child scripts of a benchmark (injectors, hosts, clients), started on the same runtime as the
 * benchmark and spoken to in JSON lines.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { COMPILED, REPO_DIR, SOURCE_DIR } from "./_repo_dir.ts";
import { BenchHaltError } from "./_bench_halt_error.ts";
import { heapFlagsFor, mallocTunablesFor } from "../actors/runtime/host/heap_flags.mjs";

/** The module a child on Node is preloaded with: the command's heap flags applied. */
const HEAP_FLAGS_APPLIED = new URL("../actors/runtime/host/heap_flags_applied.mjs", import.meta.url)
  .href;

/** True on Deno, where a child script runs as `deno run -A`. */
const IS_DENO = "Deno" in globalThis;

/**
 * The command line that runs the TypeScript file `script` (relative to the repository) here.
 * `TROUPE_BENCH_CHILD_FLAGS` (space-separated) adds runtime flags, e.g. `--cpu-prof` to profile
 * the injector. On Node a child runs with the V8 flags the `troupe` command runs with
 * (actors/runtime/host/heap_flags.mjs), so that a host in a child runs as under `troupe run`,
 * but for those the added flags speak of.
 */
export function scriptCommand(script: string, args: readonly string[]): [string, string[]] {
  if (IS_DENO) {
    return [process.execPath, ["run", "-A", ...givenFlags(), join(SOURCE_DIR, script), ...args]];
  }
  const flags = [...heapFlags(), "--import", HEAP_FLAGS_APPLIED, ...givenFlags()];
  if (COMPILED) {
    const path = join(SOURCE_DIR, script.replace(/\.ts$/, ".js"));
    return [process.execPath, [...flags, path, ...args]];
  }
  const path = join(SOURCE_DIR, script);
  return [process.execPath, [...flags, "--import", import.meta.resolve("tsx"), path, ...args]];
}

/** The runtime flags `TROUPE_BENCH_CHILD_FLAGS` adds to every child (space-separated). */
function givenFlags(): string[] {
  return (process.env.TROUPE_BENCH_CHILD_FLAGS ?? "").split(" ").filter(Boolean);
}

/**
 * On Node, the V8 flags the `troupe` command's `#!` line runs with, less those the added flags
 * speak of: `node cli/troupe.mjs` alone would run without them.
 */
function heapFlags(): string[] {
  return heapFlagsFor(process.env.TROUPE_BENCH_CHILD_FLAGS ?? "");
}

/**
 * The environment of a child: this process's, and on Node the `GLIBC_TUNABLES` the `troupe`
 * command's `#!` line gives (actors/runtime/host/heap_flags.mjs), so that a host in a child runs
 * as under `troupe run` however the benchmark was started.
 */
function childEnv(): NodeJS.ProcessEnv {
  if (IS_DENO) return process.env;
  return { ...process.env, GLIBC_TUNABLES: mallocTunablesFor(process.env.GLIBC_TUNABLES) };
}

/**
 * The `troupe` command this process runs from on Node: the script it was started as (the
 * checkout's `cli/troupe.mjs`, or a link to it), else the repository's. Not REPO_DIR's alone: from
 * a compiled mirror under a linked node_modules, that is the link's target's checkout.
 */
function troupeEntry(): string {
  const started = process.argv[1];
  return started !== undefined && /[\\/]troupe(\.mjs)?$/.test(started)
    ? started
    : join(REPO_DIR, "cli", "troupe.mjs");
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
  /** The signal that ended it, once it ended by one. */
  exitSignal: string | null = null;
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
        this.exitSignal = signal;
        this.#exitError = new BenchHaltError(
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
    const child = spawn(cmd, argv, {
      cwd: REPO_DIR,
      env: childEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    return new ChildScript(script, child, log);
  }

  /**
   * Starts the `troupe` command with `args`, as a user runs it here: `cli/troupe.mjs` on Node (a
   * command's `cli/main.ts` runs itself on Deno only), with the V8 flags of its `#!` line and
   * `TROUPE_BENCH_CHILD_FLAGS`; `deno run -A cli/main.ts` on Deno.
   */
  static troupe(args: readonly string[], log: (m: string) => void): ChildScript {
    const [cmd, argv] = IS_DENO
      ? scriptCommand("cli/main.ts", args)
      : [process.execPath, [...heapFlags(), ...givenFlags(), troupeEntry(), ...args]];
    const child = spawn(cmd, argv, {
      cwd: REPO_DIR,
      env: childEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const name = `troupe ${args[0] ?? ""}`;
    // Its lines already say which command speaks.
    const said = (m: string) =>
      log(m.startsWith(`${name}: ${name}: `) ? m.slice(name.length + 2) : m);
    return new ChildScript(name, child, said);
  }

  /** Resolves with the child's exit code once it exits (it is not killed). */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  /** What it runs, as its log lines name it. */
  get name(): string {
    return this.#name;
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
        reject(new BenchHaltError(`${this.#name} did not answer within ${timeoutMs} ms`));
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
