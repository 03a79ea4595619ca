/**
 * Debian's Prometheus Alertmanager, for the alerting benchmark and tests: started on a free
 * loopback port with its own
 * config and storage in a temporary directory, gossip off, routing every alert to a webhook
 * receiver served here (short group_wait and group_interval, so a test sees grouping in seconds).
 * Where the binary is missing, suites that need it are skipped with one loud line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../actors/runtime/mod.ts";
import { parseWebhookPayload, type WebhookPayload } from "../protocol/mod.ts";

/** Where Debian installs it. */
export const ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager";

/** Whether Alertmanager is installed; prints a loud line once when it is not. */
export function haveAlertmanager(suiteName: string): boolean {
  if (existsSync(ALERTMANAGER_BIN)) return true;
  console.log(
    `\n  !!! SKIPPED ${suiteName}: prometheus-alertmanager is not installed ` +
      `(apt-get install prometheus-alertmanager) !!!\n`,
  );
  return false;
}

/** An alert as `GET /api/v2/alerts` lists it. */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  status: { state: string };
}

/** A webhook receiver: what it was posted, in order. */
export class WebhookReceiver {
  readonly bodies: WebhookPayload[] = [];
  readonly headers: Record<string, string | string[] | undefined>[] = [];
  /** The status it answers with (tests of refusals change it). */
  status = 200;
  /** How long it waits before answering, ms. */
  delayMs = 0;
  #server: Server;
  port = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        const answer = () => {
          try {
            this.bodies.push(parseWebhookPayload(text));
            this.headers.push(req.headers);
          } catch (err) {
            res.writeHead(400).end((err as Error).message);
            return;
          }
          res.writeHead(this.status).end("");
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
  }

  /** Listens on a free loopback port. */
  async listen(): Promise<this> {
    this.port = await freePort();
    await new Promise<void>((r) => this.#server.listen(this.port, "127.0.0.1", r));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections?.();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

/** Alertmanager running, and how to stop it. */
export class TestAlertmanager {
  readonly dir: string;
  readonly port: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  log = "";

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /**
   * Starts one routing to `webhookUrl`, grouped by alertname; or, given `config`, with that
   * alertmanager.yml (a documented one, its URLs already pointed where the test listens).
   */
  static async start(
    webhookUrl: string,
    port?: number,
    options: { config?: string } = {},
  ): Promise<TestAlertmanager> {
    const dir = mkdtempSync(join(tmpdir(), "troupe-am-"));
    writeFileSync(
      join(dir, "alertmanager.yml"),
      options.config ?? [
        "route:",
        "  receiver: hook",
        "  group_by: [alertname]",
        "  group_wait: 200ms",
        "  group_interval: 500ms",
        "  repeat_interval: 1h",
        "receivers:",
        "  - name: hook",
        "    webhook_configs:",
        `      - url: ${webhookUrl}`,
        "        send_resolved: true",
        "",
      ].join("\n"),
    );
    // A port found free can be taken by another process before Alertmanager binds it (an
    // outgoing connection's local port, say): then it starts again on a fresh one.
    for (let attempt = 1;; attempt++) {
      const am = new TestAlertmanager(dir, port ?? await freePort());
      try {
        await am.#spawn();
        return am;
      } catch (err) {
        const taken = /address already in use/.test((err as Error).message);
        if (port !== undefined || !taken || attempt >= 3) {
          rmSync(dir, { recursive: true, force: true });
          throw err;
        }
      }
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async #spawn(): Promise<void> {
    const child = spawn(ALERTMANAGER_BIN, [
      `--config.file=${join(this.dir, "alertmanager.yml")}`,
      `--storage.path=${join(this.dir, "data")}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    child.stderr!.on("data", (c: Buffer) => {
      if (this.log.length < 20_000) this.log += c.toString();
    });
    this.#exited = new Promise((r) => child.once("exit", () => r()));
    alive.add(child);
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) {
        await this.#exited;
        alive.delete(child);
        throw new Error(`Alertmanager on port ${this.port} exited at start:\n${this.log}`);
      }
      try {
        const res = await fetch(`${this.url}/-/ready`);
        await res.body?.cancel();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`Alertmanager on port ${this.port} was not ready in 15 s:\n${this.log}`);
  }

  /** The alerts it lists (active, not resolved). */
  async alerts(): Promise<GettableAlert[]> {
    const res = await fetch(`${this.url}/api/v2/alerts`);
    if (!res.ok) throw new Error(`GET /api/v2/alerts answered ${res.status}`);
    return await res.json() as GettableAlert[];
  }

  /** Kills it at once (SIGKILL). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid!, "SIGKILL");
    await this.#exited;
    alive.delete(child);
  }

  /** Starts it again on the same port and storage. */
  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  /** Kills it and removes its directory. */
  async cleanup(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const alive = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of alive) {
    try {
      process.kill(c.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }
});

/** Polls `check` every 50 ms until it is true, or throws `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
}
