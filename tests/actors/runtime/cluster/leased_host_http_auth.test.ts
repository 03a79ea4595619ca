/**
 * A leased host's HTTP port with an address and a token, against a real nats-server with
 * JetStream: it listens on the address asked (127.0.0.2), asks the token of /metrics (401 with
 * `WWW-Authenticate` without it) and leaves /healthz open.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  freePort,
  type HostConfig,
  launchLeasedHost,
  type LeaseSettings,
  leaseSettings,
} from "../../../../actors/runtime/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";

const test = suite("launchLeasedHost: http auth");

if (haveNatsServer("launchLeasedHost http auth")) {
  test("a leased host's port listens on http_host and asks its token of all but /healthz", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const port = await freePort();
    const config = defaultHostConfig() as HostConfig & { partitions: { leases: LeaseSettings } };
    Object.assign(config, {
      host_id: "leased-auth",
      nats: nats.url,
      data_dir: join(dir.path, "data"),
      input: "jetstream",
      journal: { ...config.journal, kind: "jetstream" },
      snapshots: { ...config.snapshots, store: "kv" },
      partitions: { count: 2, owned: [], leases: leaseSettings(2000) },
      http_port: port,
      http_host: "127.0.0.2",
      http_auth: { bearerToken: "leased-token" },
      actors: { stats: {} },
    });
    const host = await launchLeasedHost(config, ACTOR_KINDS, { log: () => {} });
    try {
      const base = `http://127.0.0.2:${port}`;
      const none = await fetch(`${base}/metrics`);
      assert.is(none.status, 401);
      assert.is(none.headers.get("www-authenticate"), 'Bearer realm="troupe host"');
      await none.text();
      const authed = await fetch(`${base}/metrics`, {
        headers: { authorization: "Bearer leased-token" },
      });
      assert.is(authed.status, 200);
      assert.match(await authed.text(), "troupe_");
      const health = await fetch(`${base}/healthz`);
      assert.ok(health.status === 200 || health.status === 503, String(health.status));
      assert.match(await health.text(), '"leased-auth"');
      const loopback = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => `answered ${r.status}`,
        (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? String(err.cause),
      );
      assert.match(loopback, /ECONNREFUSED|Connection refused/);
    } finally {
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
