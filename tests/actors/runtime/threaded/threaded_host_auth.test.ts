/**
 * A threaded host's HTTP port with a bearer token: the main thread asks it of every request but
 * /healthz, and the scan API, served by thread 0 behind the main thread, answers a request that
 * carries it (thread 0 asks the same token of what is forwarded: the header passes through). A
 * real nats-server and real worker threads.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { defaultHostConfig, ThreadedHost } from "../../../../actors/runtime/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";
import { ACTOR_KINDS_MODULE } from "../../../../actors/mod.ts";

const test = suite("ThreadedHost: http auth");

if (haveNatsServer("ThreadedHost http auth")) {
  test("the scan API behind the main thread is 401 without the token and answers with it; /healthz is open", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const config = defaultHostConfig();
    config.host_id = "ta";
    config.nats = nats.url;
    config.data_dir = join(dir.path, "data");
    config.input = "core";
    config.http_port = 0;
    config.http_auth = { bearerToken: "threads-token" };
    config.partitions = { count: 2, owned: [0, 1] };
    config.actors = { bars: {} };
    const host = await ThreadedHost.start(config, 2, {
      kinds: ACTOR_KINDS_MODULE,
      scans: true,
      log: () => {},
    });
    try {
      const base = `http://127.0.0.1:${host.httpPort}`;
      const call = async (path: string, headers: Record<string, string> = {}) => {
        const r = await fetch(`${base}${path}`, { headers });
        return {
          status: r.status,
          text: await r.text(),
          challenge: r.headers.get("www-authenticate"),
        };
      };
      const none = await call("/scans/active");
      assert.is(none.status, 401, none.text);
      assert.is(none.challenge, 'Bearer realm="troupe host"');
      const token = { authorization: "Bearer threads-token" };
      const active = await call("/scans/active", token);
      assert.is(active.status, 200, active.text);
      assert.equal(JSON.parse(active.text), []);
      assert.is((await call("/metrics")).status, 401);
      assert.is((await call("/metrics", token)).status, 200);
      assert.is((await call("/healthz")).status, 200);
    } finally {
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
