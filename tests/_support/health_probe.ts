/**
 * Test support: probes a server's /healthz from a process of its own (health_probe_main.ts, on
 * the runtime the tests run on), as a monitor would. A probe sent from the test's own process
 * measured that process: under load, one that also read hundreds of large documents read its
 * first answer only after every document had come; on Deno, a host seeding its history in the
 * same process held the probe's own connection for the whole seeding (Deno's fetch runs beside
 * the event loop and needs several turns of it), though the host answered between slices.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { ROOT } from "./cli.ts";

/** What one probe found: the server's answer, or the error of a request nobody took. */
export type HealthOutcome =
  | { status: number; body: Record<string, unknown> }
  | { error: string };

/** A running probe. */
export interface HealthProbe {
  /** Resolves once the first outcome is in (the probe is running). */
  started: Promise<void>;
  /** Stops the probe if it still runs; resolves with every outcome, in order. Rejects, with
   *  what it printed, when the probe failed (an answer it could not take). */
  stop(): Promise<HealthOutcome[]>;
}

/** Options of `startHealthProbe`. */
export interface HealthProbeOptions {
  /** Stop probing at the first answer that shows clients waiting for a document. */
  untilJoining?: boolean;
}

/** How long the probe process may take to print its first answer. */
const START_TIMEOUT_MS = 60_000;

/**
 * Starts probing `url` (a /healthz URL) from a child process, one request after another; while
 * nothing listens there it retries every few milliseconds.
 */
export function startHealthProbe(url: string, options: HealthProbeOptions = {}): HealthProbe {
  const main = join(ROOT, "tests/_support/health_probe_main.ts");
  const probeArgs = [main, url, ...(options.untilJoining ? ["--until-joining"] : [])];
  const [cmd, args] = "Deno" in globalThis
    ? [join(ROOT, "node_modules/.bin/deno"), ["run", "-A", "--quiet", ...probeArgs]]
    : [process.execPath, ["--import", "tsx", ...probeArgs]];
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  let stopped = false;
  let failure: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on("close", (code, signal) => {
      if (code !== 0 && !stopped) failure = `exited with ${code ?? signal}: ${err.trim()}`;
      resolve();
    });
  });
  const outcomes = () => out.split("\n").slice(0, -1).map((l) => JSON.parse(l) as HealthOutcome);
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`The /healthz probe printed nothing in ${START_TIMEOUT_MS} ms: ${err}`));
    }, START_TIMEOUT_MS);
    const settle = (fail?: Error) => {
      clearTimeout(timer);
      if (fail) reject(fail);
      else resolve();
    };
    child.stdout!.on("data", () => settle());
    child.on("error", (e) => settle(e));
    void exited.then(() => {
      if (outcomes().length === 0) settle(new Error(`The /healthz probe ended: ${err}`));
    });
  });
  return {
    started,
    async stop() {
      stopped = true;
      stopChild(child);
      await exited;
      if (failure !== undefined) throw new Error(`The /healthz probe of ${url} ${failure}`);
      return outcomes();
    },
  };
}

/** Ends the probe by its pid, unless it has exited. */
function stopChild(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, "SIGTERM");
  } catch (e) {
    if ((e as { code?: string }).code !== "ESRCH") throw e;
  }
}
