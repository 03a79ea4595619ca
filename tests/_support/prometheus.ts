/**
 * Debian's Prometheus and node exporter, started by a test on free loopback ports with a
 * temporary config and store, and killed when the test process ends however it ends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../../actors/runtime/mod.ts";
import {
  encodeWriteRequest,
  snappyCompress,
  type WriteRequest,
} from "../../protocol/prometheus/mod.ts";

/** Where Debian puts the binaries. */
export const PROMETHEUS_BIN = "/usr/bin/prometheus";
export const NODE_EXPORTER_BIN = "/usr/bin/prometheus-node-exporter";
export const VICTORIA_METRICS_BIN = "/usr/bin/victoria-metrics";

/** Whether `bins` are installed; prints a loud line once when they are not. */
export function haveBinaries(suiteName: string, bins: string[]): boolean {
  const missing = bins.filter((b) => !existsSync(b));
  if (missing.length === 0) return true;
  console.log(
    `\n  !!! SKIPPED ${suiteName}: ${missing.join(", ")} not installed (apt-get install ` +
      `prometheus prometheus-node-exporter victoria-metrics) !!!\n`,
  );
  return false;
}

const children = new Set<ChildProcess>();
let hooked = false;

/** A started server process. */
export interface StartedProcess {
  url: string;
  port: number;
  output(): string;
  /** Kills it (SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

/** How many ports `startProcess` tries when the one found free is taken before it binds. */
const START_ATTEMPTS = 3;

/**
 * Starts `bin` with the arguments `args` makes of a free port and a temporary directory, ready
 * once `ready` answers 2xx on that port. A port found free can be taken by another process before
 * `bin` binds it (an outgoing connection's local port, say): then it starts again on a fresh one.
 */
export async function startProcess(
  bin: string,
  args: (port: number, dir: string) => string[],
  ready: string,
): Promise<StartedProcess> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(bin, args, ready);
    } catch (err) {
      const taken = /address already in use/.test((err as Error).message);
      if (!taken || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

/** One attempt of `startProcess`, on a port found free now. */
async function startOnce(
  bin: string,
  args: (port: number, dir: string) => string[],
  ready: string,
): Promise<StartedProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "troupe-prom-"));
  const child = spawn(bin, args(port, dir), { stdio: ["ignore", "pipe", "pipe"] });
  if (!hooked) process.once("exit", () => children.forEach((c) => c.kill("SIGKILL")));
  hooked = true;
  children.add(child);
  let out = "";
  child.stdout!.on("data", (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on("data", (d) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<void>((r) => child.on("close", () => r()));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      await exited;
      children.delete(child);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${bin} exited at start:\n${out}`);
    }
    const ok = await fetch(url + ready).then((r) => (r.body?.cancel(), r.ok), () => false);
    if (ok) break;
    if (Date.now() - t0 > 20_000) {
      child.kill("SIGKILL");
      throw new Error(`${bin} was not ready at ${url}${ready} within 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    output: () => out,
    async stop() {
      child.kill("SIGKILL");
      await exited;
      children.delete(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the node exporter with a few collectors (a few hundred series). */
export function startNodeExporter(): Promise<StartedProcess> {
  return startProcess(NODE_EXPORTER_BIN, (port) => [
    `--web.listen-address=127.0.0.1:${port}`,
    "--collector.disable-defaults",
    "--collector.loadavg",
    "--collector.meminfo",
    "--collector.cpu",
    "--collector.stat",
  ], "/metrics");
}

/** Starts Prometheus scraping `targets` every second and remote-writing to `writeUrl`. */
export function startPrometheus(
  targets: string[],
  writeUrl: string,
  extra: { bearerToken?: string; honorLabels?: boolean } = {},
): Promise<StartedProcess> {
  return startProcess(PROMETHEUS_BIN, (port, dir) => {
    const config = join(dir, "prometheus.yml");
    const auth = extra.bearerToken
      ? `\n    authorization:\n      credentials: "${extra.bearerToken}"`
      : "";
    writeFileSync(
      config,
      `global:
  scrape_interval: 1s
  evaluation_interval: 1m
scrape_configs:
  - job_name: node${extra.honorLabels ? "\n    honor_labels: true" : ""}
    static_configs:
      - targets: [${targets.map((t) => `"${t}"`).join(", ")}]
remote_write:
  - url: ${writeUrl}${auth}
    queue_config:
      batch_send_deadline: 500ms
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send_interval: 5s
`,
    );
    return [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ];
  }, "/-/ready");
}

/** Starts Prometheus with no scrape, taking remote write (a store a test fills with a past). */
export function startPrometheusTakingWrites(): Promise<StartedProcess> {
  return startProcess(PROMETHEUS_BIN, (port, dir) => {
    const config = join(dir, "prometheus.yml");
    writeFileSync(config, "global:\n  scrape_interval: 1m\n");
    return [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-remote-write-receiver",
    ];
  }, "/-/ready");
}

/** Sends `req` by remote write to `url` (a receiver's base URL); the answer. */
export async function remoteWriteTo(url: string, req: WriteRequest): Promise<Response> {
  return await fetch(`${url}/api/v1/write`, {
    method: "POST",
    body: snappyCompress(encodeWriteRequest(req)) as Uint8Array<ArrayBuffer>,
    headers: {
      "content-type": "application/x-protobuf",
      "content-encoding": "snappy",
      "x-prometheus-remote-write-version": "0.1.0",
    },
  });
}

/** The raw samples Prometheus stored for `selector` over the last `range` (`[[ms, value]]`). */
export async function promSamples(
  promUrl: string,
  selector: string,
  range = "10m",
): Promise<Array<[number, number]>> {
  const q = encodeURIComponent(`${selector}[${range}]`);
  const r = await fetch(`${promUrl}/api/v1/query?query=${q}`);
  const body = await r.json() as {
    data: { result: Array<{ values: Array<[number, string]> }> };
  };
  const values = body.data.result[0]?.values ?? [];
  return values.map(([s, v]) => [Math.round(s * 1000), Number(v)]);
}

/** The value of the exposition line starting with `line` in `text` (0 when absent). */
export function exposedValue(text: string, line: string): number {
  const l = text.split("\n").find((s) => s.startsWith(line + " "));
  return l === undefined ? 0 : Number(l.slice(line.length + 1));
}
