/**
 * `troupe run` with credentials on its HTTP doors, as a team deploys it: the host's port asks
 * TROUPE_HTTP_TOKEN's token, the receiver the file's; neither token appears in anything the
 * command prints; the block for prometheus.yml is written to a file only its owner may read, and
 * Debian's Prometheus, configured from that file and scraping the host with the host's token,
 * sends to the receiver and scrapes the host. Off loopback without a token, the command warns.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { freePort } from "../../actors/runtime/mod.ts";
import { type RunningTroupe, runTroupe, startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import {
  exposedValue,
  haveBinaries,
  NODE_EXPORTER_BIN,
  PROMETHEUS_BIN,
  type StartedProcess,
  startNodeExporter,
  startProcess,
} from "../_support/prometheus.ts";

const test = suite("troupe run http auth");

const HOST_TOKEN = "host-tok-Zq81";
const RECEIVER_TOKEN = "recv-tok-Ya72";

/** A host config with only the stats kind on, its HTTP port and its receiver on `ports`. */
function writeConfig(dir: string, ports: { http: number; write: number }): string {
  const path = join(dir, "host.json");
  const actors: Record<string, unknown> = {};
  for (const kind of Object.keys(ACTOR_KINDS)) actors[kind] = { enabled: kind === "stats" };
  writeFileSync(
    path,
    JSON.stringify({
      data_dir: join(dir, "data"),
      http_port: ports.http,
      actors,
      remote_write: { port: ports.write, bearer_token: RECEIVER_TOKEN, match: ['{job="node"}'] },
    }),
  );
  return path;
}

async function until(what: string, check: () => Promise<boolean>, ms = 45_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const metric = exposedValue;

const withProm = haveBinaries("troupe run http auth", [PROMETHEUS_BIN, NODE_EXPORTER_BIN])
  ? test
  : test.skip;

withProm(
  "neither token is printed; the block file (0600) configures a Prometheus that remote-writes to the receiver, which scrapes the host with its token",
  async () => {
    const dir = tempDir();
    let run: RunningTroupe | undefined;
    let exporter: StartedProcess | undefined;
    let prom: StartedProcess | undefined;
    try {
      const ports = { http: await freePort(), write: await freePort() };
      run = startTroupe(["run", "--config", writeConfig(dir.path, ports)], undefined, {
        env: { TROUPE_HTTP_TOKEN: HOST_TOKEN },
      });
      await run.waitFor("prometheus-remote-write.yml", 60_000);
      const file = /is in (\S+prometheus-remote-write\.yml)/.exec(run.output())?.[1];
      assert.ok(file, run.output());
      assert.is(file, join(dir.path, "data", "prometheus-remote-write.yml"));
      assert.is(statSync(file!).mode & 0o777, 0o600);
      const block = readFileSync(file!, "utf8");
      assert.match(block, `url: http://127.0.0.1:${ports.write}/api/v1/write`);
      assert.match(block, `credentials: "${RECEIVER_TOKEN}"`);

      const host = `http://127.0.0.1:${ports.http}`;
      const receiver = `http://127.0.0.1:${ports.write}`;
      assert.is(await fetch(`${host}/metrics`).then(async (r) => (await r.text(), r.status)), 401);
      assert.is(await fetch(`${host}/healthz`).then(async (r) => (await r.text(), r.status)), 200);
      assert.is(
        await fetch(`${receiver}/metrics`).then(async (r) => (await r.text(), r.status)),
        401,
      );

      exporter = await startNodeExporter();
      prom = await startProcess(PROMETHEUS_BIN, (port, promDir) => {
        const config = join(promDir, "prometheus.yml");
        // The scrape jobs, then the written block as a user pastes it.
        writeFileSync(
          config,
          `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:${exporter!.port}"]
  - job_name: troupe
    authorization:
      credentials: "${HOST_TOKEN}"
    static_configs:
      - targets: ["127.0.0.1:${ports.http}"]
${block}`,
        );
        return [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(promDir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ];
      }, "/-/ready");

      const authed = { headers: { authorization: `Bearer ${RECEIVER_TOKEN}` } };
      const journaled = 'troupe_ingest_samples_total{api="remote_write",outcome="journaled"}';
      await until("samples journaled from Prometheus's remote write", async () => {
        const text = await fetch(`${receiver}/metrics`, authed).then((r) => r.text(), () => "");
        return metric(text, journaled) > 0;
      });
      const text = await (await fetch(`${receiver}/metrics`, authed)).text();
      assert.is(metric(text, 'troupe_ingest_requests_total{api="remote_write",code="401"}'), 0);
      // Prometheus stored the host's own metrics, scraped with the host's token.
      const q = encodeURIComponent('troupe_healthy{job="troupe"}');
      await until("the host scraped by Prometheus with its token", async () => {
        const r = await (await fetch(`${prom!.url}/api/v1/query?query=${q}`)).json() as {
          data: { result: Array<{ value: [number, string] }> };
        };
        return r.data.result[0]?.value[1] === "1";
      });

      run.signal("SIGINT");
      assert.is(await run.exitCode(30_000), 0, run.output());
      assert.not.match(run.output(), RECEIVER_TOKEN);
      assert.not.match(run.output(), HOST_TOKEN);
    } finally {
      await prom?.stop();
      await exporter?.stop();
      await run?.stop();
      dir.remove();
    }
  },
);

withProm(
  "a basic-auth password with a quote and a backslash survives the written block: Prometheus configured from it is let in",
  async () => {
    const dir = tempDir();
    let run: RunningTroupe | undefined;
    let prom: StartedProcess | undefined;
    const password = 'pa"ss\\word #1';
    try {
      const write = await freePort();
      const path = join(dir.path, "host.json");
      const actors: Record<string, unknown> = {};
      for (const kind of Object.keys(ACTOR_KINDS)) actors[kind] = { enabled: kind === "stats" };
      writeFileSync(
        path,
        JSON.stringify({
          data_dir: join(dir.path, "data"),
          actors,
          remote_write: {
            port: write,
            basic_auth: { username: "prom", password },
            match: ['{__name__="up"}'],
          },
        }),
      );
      run = startTroupe(["run", "--config", path]);
      await run.waitFor("prometheus-remote-write.yml", 60_000);
      const block = readFileSync(join(dir.path, "data", "prometheus-remote-write.yml"), "utf8");
      prom = await startProcess(PROMETHEUS_BIN, (port, promDir) => {
        const config = join(promDir, "prometheus.yml");
        writeFileSync(
          config,
          `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ["127.0.0.1:${port}"]
${block}`,
        );
        return [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(promDir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ];
      }, "/-/ready");
      const utf8 = btoa(String.fromCharCode(...new TextEncoder().encode(`prom:${password}`)));
      const authed = { headers: { authorization: `Basic ${utf8}` } };
      const journaled = 'troupe_ingest_samples_total{api="remote_write",outcome="journaled"}';
      const receiver = `http://127.0.0.1:${write}/metrics`;
      await until("Prometheus's samples journaled with basic auth", async () => {
        const text = await fetch(receiver, authed).then((r) => r.text(), () => "");
        return metric(text, journaled) > 0;
      });
      const text = await (await fetch(receiver, authed)).text();
      assert.is(metric(text, 'troupe_ingest_requests_total{api="remote_write",code="401"}'), 0);
      await run.stop();
      assert.not.match(run.output(), "ss\\word");
    } finally {
      await prom?.stop();
      await run?.stop();
      dir.remove();
    }
  },
);

test("--http-host 0.0.0.0 without a token warns and says where it listens; a bad TROUPE_HTTP_TOKEN is a usage error that does not show it", async () => {
  const dir = tempDir();
  let run: RunningTroupe | undefined;
  try {
    const port = await freePort();
    const args = ["run", "--data-dir", join(dir.path, "data"), "--http-port", String(port)];
    run = startTroupe([...args, "--http-host", "0.0.0.0"]);
    await run.waitFor(`http://0.0.0.0:${port}/metrics`, 60_000);
    assert.match(
      run.output(),
      "troupe run: warning: the HTTP port listens on 0.0.0.0 and asks no credential",
    );
    await run.stop();
    const bad = await runTroupe([...args, "--http-host", "127.0.0.1:80"]);
    assert.is(bad.code, 2);
    assert.match(bad.stderr, "Option --http-host must be an address to listen on");
    const token = await runTroupe(args, { env: { TROUPE_HTTP_TOKEN: "bad token secretish" } });
    assert.is(token.code, 2);
    assert.match(token.stderr, "TROUPE_HTTP_TOKEN must be a bearer token");
    assert.not.match(token.stderr, "secretish");
  } finally {
    await run?.stop();
    dir.remove();
  }
});

test.run();
