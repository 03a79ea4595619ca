/**
 * The troupe side of `troupe bench pages`, run as a team runs it: a nats-server with JetStream,
 * then (with `--record`) `troupe record` from before the host starts, so the recording replays
 * exactly, then `troupe run` with a host configuration holding a `remote_write` block (its bearer
 * token, and Prometheus as its `history_url`) and an `alerting` block posting to Alertmanager,
 * groups below the budget sent as `info` so a fault that did not page shows how far short it
 * fell. The findings of every kind are counted from the findings the host publishes
 * (`troupe.finding.>`, one message a finding), as `troupe watch --findings` shows them.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { freePort, type NatsServer } from "../actors/runtime/mod.ts";
import { NatsBus } from "../actors/runtime/mod.ts";
import { findingsOf } from "../collab/mod.ts";
import { FINDINGS_PATTERN } from "../protocol/mod.ts";
import { startBenchNats } from "./_bench_nats.ts";
import { ChildScript } from "./_child_script.ts";
import { ready } from "./_remote_write_send.ts";
import { BenchHaltError } from "./_bench_halt_error.ts";

const START_MS = 120_000;
/** How long a child has to stop once asked. */
const STOP_MS = 60_000;

/** Where troupe reads from and posts to. */
export interface PagesTroupeSettings {
  /** The run's scratch directory. */
  dir: string;
  /** Prometheus's base URL: the history URL. */
  historyUrl: string;
  /** How far back a new series' history is read (`history_window_ms`), a point every scrape. */
  historyWindowMs: number;
  /** Prometheus's scrape interval, the history's step. */
  scrapeIntervalMs: number;
  alertmanagerUrl: string;
  /** Where `troupe record` writes; undefined: no recording. */
  recordFile: string | undefined;
  /** The receiver's preset (remote_write.preset). */
  preset: string;
  log(message: string): void;
}

/** Findings seen, by kind, since the host started. */
export interface FindingCounts {
  /** Dated at or after the live start (samples Prometheus sent live). */
  live: Map<string, number>;
  /** Dated before it: findings of the history read. */
  history: number;
}

/** troupe running, and how to stop it. */
export class PagesTroupe {
  readonly token = randomBytes(24).toString("base64url");
  readonly findings: FindingCounts = { live: new Map(), history: 0 };
  /** Event time from which findings count as live, µs (set by `goLive`). */
  liveFromUs = Infinity;
  writePort = 0;
  httpPort = 0;
  #nats: NatsServer | undefined;
  #bus: NatsBus | undefined;
  #recorder: ChildScript | undefined;
  #host: ChildScript | undefined;
  /** The host's exit code once it exited on its own (not asked to stop). */
  #hostExit: number | null | undefined;
  #stopping = false;
  readonly #settings: PagesTroupeSettings;

  constructor(settings: PagesTroupeSettings) {
    this.#settings = settings;
  }

  /** The receiver's remote-write URL. */
  get writeUrl(): string {
    return `http://127.0.0.1:${this.writePort}/api/v1/write`;
  }

  /** Starts NATS, the recorder and the host; resolves once the receiver answers. */
  async start(bench: string): Promise<void> {
    const s = this.#settings;
    this.#nats = await startBenchNats(bench, join(s.dir, "nats"));
    this.writePort = await freePort();
    const config = join(s.dir, "host.json");
    writeFileSync(config, JSON.stringify(await this.#hostConfig(), null, 2));
    if (s.recordFile !== undefined) {
      let began = () => {};
      const recording = new Promise<void>((r) => (began = r));
      this.#recorder = ChildScript.troupe([
        "record",
        "--out",
        s.recordFile,
        "--nats",
        this.#nats.url,
      ], (m) => {
        s.log(m);
        if (/troupe record: recording /.test(m)) began();
      });
      const recorder = this.#recorder;
      void recorder.exited.then((code) => {
        if (this.#stopping) return;
        s.log(
          `troupe record ended during the run (code ${code}, signal ${recorder.exitSignal}): ` +
            `the recording ${s.recordFile} is cut there`,
        );
      });
      // Not wait(): it kills the child after its grace.
      await Promise.race([
        recording,
        recorder.exited.then((code) => {
          throw new BenchHaltError(
            `troupe record exited (code ${code}) before it began recording to ${s.recordFile}`,
          );
        }),
      ]);
    }
    this.#bus = await NatsBus.connect(this.#nats.url, { name: "bench-pages" });
    this.#bus.subscribe(FINDINGS_PATTERN, (m) => this.#count(m.subject, m.data));
    this.#host = ChildScript.troupe(["run", "--config", config], s.log);
    void this.#host.exited.then((code) => {
      if (!this.#stopping) this.#hostExit = code;
    });
    await Promise.race([
      ready(`http://127.0.0.1:${this.writePort}/healthz`, START_MS),
      this.#host.exited.then((code) => {
        throw new BenchHaltError(
          `troupe run exited (code ${code}) before its receiver answered (its lines above say why)`,
        );
      }),
    ]);
  }

  /** Throws if the host ended on its own: the rest of the run would measure nothing. */
  checkHost(): void {
    if (this.#hostExit !== undefined) {
      throw new BenchHaltError(
        `troupe run exited (code ${this.#hostExit}) during the run (its lines above say why)`,
      );
    }
  }

  /** Findings dated from now on are live. */
  goLive(): void {
    this.liveFromUs = Date.now() * 1000;
  }

  /**
   * What the host and its receiver say of the budget and the history read: the host's
   * `troupe_page_*` series, the receiver's `troupe_ingest_history_*` and how many series it feeds.
   */
  async budgetLines(): Promise<string[]> {
    const read = async (url: string, headers: Record<string, string>) => {
      try {
        const res = await fetch(url, { headers });
        return res.ok ? await res.text() : `(${url} answered ${res.status})`;
      } catch (err) {
        return `(${url}: ${(err as Error).message})`;
      }
    };
    const host = await read(`http://127.0.0.1:${this.httpPort}/metrics`, {});
    const receiver = await read(`http://127.0.0.1:${this.writePort}/metrics`, {
      authorization: `Bearer ${this.token}`,
    });
    const series = (text: string, prefix: string) =>
      text.split("\n").filter((l) => l.startsWith(prefix) || l.startsWith("("));
    const scored = receiver.split("\n").filter((l) => l.startsWith("troupe_anomaly_score{"));
    return [
      `the budget: ${series(host, "troupe_page_").join("; ") || "no troupe_page_* series"}`,
      `the history read: ${
        series(receiver, "troupe_ingest_history_").join("; ") || "no troupe_ingest_history_*"
      }; ${scored.length} series scored`,
    ];
  }

  /** Live findings of every kind. */
  liveFindings(): number {
    let n = 0;
    for (const c of this.findings.live.values()) n += c;
    return n;
  }

  /**
   * Stops the host (drained), then the recorder (its trailer written), then NATS; a child that
   * does not end within STOP_MS of its SIGTERM is killed, and said.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const child of [this.#host, this.#recorder]) {
      if (child?.pid === undefined) continue;
      try {
        process.kill(child.pid, "SIGTERM");
      } catch {
        // gone
      }
      const t0 = Date.now();
      const code = await child.wait(STOP_MS);
      if (Date.now() - t0 >= STOP_MS) {
        this.#settings.log(`${child.name} did not stop within ${STOP_MS} ms: killed`);
      } else if (code !== 0) this.#settings.log(`${child.name} exited with code ${code}`);
    }
    this.#host = this.#recorder = undefined;
    await this.#bus?.close().catch(() => {});
    this.#bus = undefined;
    await this.#nats?.stop();
    this.#nats = undefined;
  }

  #count(subject: string, data: Uint8Array): void {
    for (const f of findingsOf(subject, data, Date.now() * 1000)) {
      if (f.ts_us < this.liveFromUs) this.findings.history++;
      else this.findings.live.set(f.kind, (this.findings.live.get(f.kind) ?? 0) + 1);
    }
  }

  async #hostConfig(): Promise<Record<string, unknown>> {
    const s = this.#settings;
    return {
      nats: this.#nats!.url,
      data_dir: join(s.dir, "host"),
      input: "jetstream",
      http_port: this.httpPort = await freePort(),
      remote_write: {
        port: this.writePort,
        bearer_token: this.token,
        history_url: s.historyUrl,
        history_window_ms: s.historyWindowMs,
        history_step_ms: s.scrapeIntervalMs,
        preset: s.preset,
      },
      alerting: {
        alertmanagers: [s.alertmanagerUrl],
        paging: { below_budget: "info" },
      },
    };
  }
}
