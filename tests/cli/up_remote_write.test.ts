/**
 * `troupe up --feed remote-write`: no synthetic feed, the metrics receiver beside the host, on the
 * port `--remote-write-port` asks, taking the series `--match` selects, asking a bearer token
 * (generated and kept in the data directory, or `--token`'s) that nothing printed shows; the
 * block to paste into prometheus.yml is written to a file only its owner may read, and a request
 * with its token is taken.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../actors/runtime/mod.ts";
import { encodeWriteRequest, snappyCompress } from "../../protocol/prometheus/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { nodeLoadWrite, receiverUrl } from "./_remote_write_run.ts";
import { upArgs } from "./_up.ts";

const test = suite("troupe up --feed remote-write");

const BLOCK = "prometheus-remote-write.yml";

test("troupe up --help shows --remote-write-port, --match, --preset, --token and --history-url", async () => {
  const help = await runTroupe(["up", "--help"]);
  assert.is(help.code, 0);
  const options = [
    "--remote-write-port N",
    "--match SELECTOR",
    "--preset NAME",
    "--token TOKEN",
    "--history-url URL",
  ];
  for (const o of options) {
    assert.match(help.stdout, o);
  }
});

test("a generated token, kept across runs and never printed; the block in a 0600 file; --match and --remote-write-port honoured, the node preset by default", async () => {
  const dir = tempDir();
  const dataDir = join(dir.path, "up");
  const port = await freePort();
  const args = upArgs(dataDir, [
    "--no-nats",
    "--feed",
    "remote-write",
    "--remote-write-port",
    String(port),
    "--match",
    '{job="node"}',
  ]);
  let up = startTroupe(args);
  try {
    await up.waitFor(BLOCK, 60_000);
    assert.not.match(up.output(), "injecting the synthetic");
    const token = readFileSync(join(dataDir, "remote-write.token"), "utf8").trim();
    assert.ok(token.length >= 32, token);
    assert.is(statSync(join(dataDir, "remote-write.token")).mode & 0o777, 0o600);
    const file = join(dataDir, BLOCK);
    assert.is(statSync(file).mode & 0o777, 0o600);
    const block = readFileSync(file, "utf8");
    assert.is(receiverUrl(block), `http://127.0.0.1:${port}/api/v1/write`);
    assert.match(block, `credentials: "${token}"`);
    assert.match(up.output(), `is in ${file}`);

    const url = receiverUrl(block);
    const body = nodeLoadWrite(["a"], { t0: Date.now(), values: [0.5] });
    const refused = await fetch(url, { method: "POST", body });
    assert.is(refused.status, 401, await refused.text());
    assert.match(refused.headers.get("www-authenticate") ?? "", /^Bearer /);
    const authorization = `Bearer ${token}`;
    const r = await fetch(url, { method: "POST", body, headers: { authorization } });
    assert.is(r.status, 204, await r.text());
    const metricsUrl = url.replace("/api/v1/write", "/metrics");
    assert.is(await fetch(metricsUrl).then(async (m) => (await m.text(), m.status)), 401);
    const metrics = await (await fetch(metricsUrl, { headers: { authorization } })).text();
    assert.match(metrics, 'troupe_ingest_samples_total{api="remote_write",outcome="journaled"} 1');
    assert.match(metrics, "troupe_ingest_channels 1");
    // The node preset, the default: node_load1 is an indicator, a socket count is not.
    const sockets = snappyCompress(encodeWriteRequest({
      timeseries: [{
        labels: [
          { name: "__name__", value: "node_sockstat_TCP_inuse" },
          { name: "instance", value: "a" },
          { name: "job", value: "node" },
        ],
        samples: [{ value: 12, timestamp: Date.now() }],
      }],
    })) as Uint8Array<ArrayBuffer>;
    const r3 = await fetch(url, { method: "POST", body: sockets, headers: { authorization } });
    assert.is(r3.status, 204, await r3.text());
    const after = await (await fetch(metricsUrl, { headers: { authorization } })).text();
    assert.match(after, 'troupe_ingest_samples_total{api="remote_write",outcome="unmatched"} 1');
    assert.match(after, "troupe_ingest_channels 1");
    await up.stop();
    assert.not.match(up.output(), token);

    // Started again on the same data directory: the same token, so Prometheus keeps sending.
    up = startTroupe(args);
    await up.waitFor(BLOCK, 60_000);
    assert.match(readFileSync(file, "utf8"), `credentials: "${token}"`);
    const again = nodeLoadWrite(["a"], { t0: Date.now(), values: [0.6] });
    const r2 = await fetch(url, { method: "POST", body: again, headers: { authorization } });
    assert.is(r2.status, 204, await r2.text());
    await up.stop();
    assert.not.match(up.output(), token);
  } finally {
    await up.stop();
    dir.remove();
  }
});

test("--token sets the receiver's token, unprinted; --match drops what it does not select; the options without --feed remote-write, or a bad selector, are usage errors", async () => {
  const dir = tempDir();
  const dataDir = join(dir.path, "up");
  const token = "team-chosen-token_7";
  const up = startTroupe(upArgs(dataDir, [
    "--no-nats",
    "--feed",
    "remote-write",
    "--remote-write-port",
    "0",
    "--match",
    '{job="api"}',
    "--token",
    token,
  ]));
  try {
    await up.waitFor(BLOCK, 60_000);
    const block = readFileSync(join(dataDir, BLOCK), "utf8");
    assert.match(block, `credentials: "${token}"`);
    const url = receiverUrl(block);
    const headers = { authorization: `Bearer ${token}` };
    const body = nodeLoadWrite(["a"], { t0: Date.now(), values: [0.5] }); // job="node"
    const r = await fetch(url, { method: "POST", body, headers });
    assert.is(r.status, 204, await r.text());
    const metrics = await (await fetch(url.replace("/api/v1/write", "/metrics"), { headers }))
      .text();
    assert.match(metrics, 'troupe_ingest_samples_total{api="remote_write",outcome="unmatched"} 1');
    assert.match(metrics, "troupe_ingest_channels 0");
    await up.stop();
    assert.not.match(up.output(), token);
  } finally {
    await up.stop();
  }
  try {
    const market = await runTroupe(upArgs(dataDir, ["--no-nats", "--match", '{job="x"}']));
    assert.is(market.code, 2);
    assert.match(market.stderr, "Option --match sets the metrics receiver");
    const bad = await runTroupe(
      upArgs(dataDir, ["--no-nats", "--feed", "remote-write", "--match", "{job=}"]),
    );
    assert.is(bad.code, 2);
    assert.match(bad.stderr, "Option --match");
    const badToken = await runTroupe(
      upArgs(dataDir, ["--no-nats", "--feed", "remote-write", "--token", "two words"]),
    );
    assert.is(badToken.code, 2);
    assert.match(badToken.stderr, "Option --token must be a bearer token");
    const badPreset = await runTroupe(
      upArgs(dataDir, ["--no-nats", "--feed", "remote-write", "--preset", "node-exporter"]),
    );
    assert.is(badPreset.code, 2);
    assert.match(
      badPreset.stderr,
      'Option --preset must be one of "node", "none", got "node-exporter"',
    );
  } finally {
    dir.remove();
  }
});

test("--history-url: a history URL that is down is said once, counted, and the live sample kept; a bad one is a usage error", async () => {
  const dir = tempDir();
  const dataDir = join(dir.path, "up");
  const history = `http://127.0.0.1:${await freePort()}`;
  const token = "history-token_1";
  const args = ["--no-nats", "--feed", "remote-write", "--remote-write-port", "0"];
  const up = startTroupe(upArgs(dataDir, [...args, "--token", token, "--history-url", history]));
  try {
    await up.waitFor(BLOCK, 60_000);
    const url = receiverUrl(readFileSync(join(dataDir, BLOCK), "utf8"));
    const headers = { authorization: `Bearer ${token}` };
    const body = nodeLoadWrite(["a"], { t0: Date.now(), values: [0.5] });
    const r = await fetch(url, { method: "POST", body, headers });
    assert.is(r.status, 204, await r.text());
    await up.waitFor(`cannot read history from ${history}/api/v1/query_range`, 10_000);
    assert.match(
      up.output(),
      /for 1 of 1 new series \(\S+: cannot reach it: [^\n]+\); they warm up/,
    );
    const metrics = await (await fetch(url.replace("/api/v1/write", "/metrics"), { headers }))
      .text();
    assert.match(metrics, 'troupe_ingest_history_failures_total{reason="down"} 1');
    assert.match(metrics, 'troupe_ingest_samples_total{api="remote_write",outcome="journaled"} 1');
    await up.stop();
  } finally {
    await up.stop();
  }
  try {
    const bad = await runTroupe(upArgs(dataDir, [...args, "--history-url", "prometheus:9090"]));
    assert.is(bad.code, 2);
    assert.match(bad.stderr, "Option --history-url must be an http(s) URL without a query");
    assert.not.match(bad.stderr, "    at ");
  } finally {
    dir.remove();
  }
});

test.run();
