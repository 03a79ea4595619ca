/**
 * The node `troupe bench pages` watches, as a team runs one: Debian's node exporter (its textfile
 * collector reading a directory of the run) and Debian's Prometheus scraping it every 5 s, each on
 * a free loopback port with its config and storage in the run's directory. Prometheus starts
 * without remote write, so it only gathers history; `remoteWriteTo` then adds the `remote_write`
 * block and reloads it, as a team adds troupe to a Prometheus it already runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../actors/runtime/mod.ts";
import { BenchHaltError } from "./_bench_halt_error.ts";
import { sleep } from "./_sleep.ts";

/** Where Debian installs them. */
export const NODE_EXPORTER_BIN = "/usr/bin/prometheus-node-exporter";
export const PROMETHEUS_BIN = "/usr/bin/prometheus";

/** Prometheus's scrape interval, s. */
export const SCRAPE_INTERVAL_S = 5;
/** The scrape job's name: every series carries it as `job`. */
export const SCRAPE_JOB = "node";

const READY_MS = 60_000;
const LOG_CHARS_MAX = 20_000;

/** A binary the bench needs, with the Debian package it comes in. */
export function requireBinary(bench: string, bin: string, pkg: string): void {
  if (!existsSync(bin)) {
    throw new BenchHaltError(
      `Cannot run benchmark "${bench}": ${bin} is missing (Debian/Ubuntu: apt-get install ${pkg})`,
    );
  }
}

/** A server process of the node, with what it said on stderr. */
interface Server {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

/** The node exporter and the Prometheus scraping it. */
export class ScrapedNode {
  readonly dir: string;
  readonly textfileDir: string;
  readonly exporterPort: number;
  readonly prometheusPort: number;
  readonly #servers: Server[] = [];

  private constructor(dir: string, exporterPort: number, prometheusPort: number) {
    this.dir = dir;
    this.textfileDir = join(dir, "textfile");
    this.exporterPort = exporterPort;
    this.prometheusPort = prometheusPort;
  }

  /** Starts both in `dir`, the textfile directory already holding what it should. */
  static async start(dir: string): Promise<ScrapedNode> {
    const node = new ScrapedNode(dir, await freePort(), await freePort());
    mkdirSync(node.textfileDir, { recursive: true });
    try {
      await node.#spawn("node exporter", NODE_EXPORTER_BIN, [
        `--web.listen-address=127.0.0.1:${node.exporterPort}`,
        `--collector.textfile.directory=${node.textfileDir}`,
        "--log.level=warn",
      ], `http://127.0.0.1:${node.exporterPort}/metrics`);
      node.#writeConfig(undefined);
      await node.#spawn("Prometheus", PROMETHEUS_BIN, [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "prometheus")}`,
        `--web.listen-address=127.0.0.1:${node.prometheusPort}`,
        "--web.enable-lifecycle",
        "--log.level=warn",
      ], `${node.url}/-/ready`);
    } catch (err) {
      await node.stop();
      throw err;
    }
    return node;
  }

  /** Prometheus's base URL (its query API is under it). */
  get url(): string {
    return `http://127.0.0.1:${this.prometheusPort}`;
  }

  /** The node's `instance` label, as Prometheus gives it. */
  get instance(): string {
    return `127.0.0.1:${this.exporterPort}`;
  }

  /** Adds remote write to `url` with bearer `token` and reloads Prometheus. */
  async remoteWriteTo(url: string, token: string): Promise<void> {
    this.#writeConfig({ url, token });
    const res = await fetch(`${this.url}/-/reload`, { method: "POST" });
    const text = await res.text();
    if (!res.ok) throw new Error(`Prometheus refused its reload (${res.status}): ${text}`);
  }

  /** Samples Prometheus holds of `job`'s `up` series over the last `s` seconds. */
  async upSamples(s: number): Promise<number> {
    return Number(await this.#instant(`count_over_time(up{job="${SCRAPE_JOB}"}[${s}s])`) ?? 0);
  }

  /**
   * The node's `node_load1` at its last scrape, as Prometheus gives it ("not scraped yet" when
   * it has none).
   */
  async load1(): Promise<string> {
    return await this.#instant(`node_load1{job="${SCRAPE_JOB}"}`) ?? "not scraped yet";
  }

  /** The first result of an instant query, as Prometheus gives its value (undefined: none). */
  async #instant(query: string): Promise<string | undefined> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = await res.json() as { data?: { result?: { value: [number, string] }[] } };
    return body.data?.result?.[0]?.value[1];
  }

  /** Stops both (SIGTERM, then SIGKILL after 10 s). */
  async stop(): Promise<void> {
    await Promise.all(this.#servers.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      s.child.kill("SIGTERM");
      const timer = setTimeout(() => s.child.kill("SIGKILL"), 10_000);
      await s.exited;
      clearTimeout(timer);
      alive.delete(s.child);
    }));
  }

  #writeConfig(remote: { url: string; token: string } | undefined): void {
    const lines = [
      "global:",
      `  scrape_interval: ${SCRAPE_INTERVAL_S}s`,
      `  evaluation_interval: ${SCRAPE_INTERVAL_S}s`,
      "scrape_configs:",
      `  - job_name: ${SCRAPE_JOB}`,
      "    static_configs:",
      `      - targets: ["${this.instance}"]`,
    ];
    if (remote) {
      lines.push(
        "remote_write:",
        `  - url: ${remote.url}`,
        "    authorization:",
        `      credentials_file: ${join(this.dir, "troupe.token")}`,
      );
      writeFileSync(join(this.dir, "troupe.token"), remote.token, { mode: 0o600 });
    }
    writeFileSync(join(this.dir, "prometheus.yml"), `${lines.join("\n")}\n`);
  }

  async #spawn(name: string, bin: string, args: string[], readyUrl: string): Promise<void> {
    const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    const server: Server = {
      name,
      child,
      log: "",
      exited: new Promise((r) => child.once("exit", () => r())),
    };
    child.stderr!.on("data", (c: Buffer) => {
      if (server.log.length < LOG_CHARS_MAX) server.log += c.toString();
    });
    child.once("error", (err) => (server.log += `${err.message}\n`));
    this.#servers.push(server);
    alive.add(child);
    const until = Date.now() + READY_MS;
    while (Date.now() < until && child.exitCode === null && child.signalCode === null) {
      try {
        const res = await fetch(readyUrl);
        await res.body?.cancel();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new BenchHaltError(
      `${name} (${bin}) was not ready on ${readyUrl} within ${READY_MS / 1000} s` +
        `${child.exitCode !== null ? ` (it exited with code ${child.exitCode})` : ""}:\n` +
        server.log.trim(),
    );
  }
}

const alive = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of alive) {
    try {
      c.kill("SIGKILL");
    } catch {
      // gone
    }
  }
});
