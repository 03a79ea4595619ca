/**
 * A host's HTTP endpoints over real HTTP: /healthz and /metrics answer GET whatever the query
 * string and refuse other methods (405); /metrics counts events by kind and type, shows the
 * lag behind arrival and the process metrics; a port already taken fails the start with one line
 * naming it; a failed start leaves no port open; what a launched host's service is still warming
 * is named in /healthz, which stays 200.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:net";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  Host,
  HostFatalError,
  InProcessBus,
  launchHost,
  MemoryJournal,
  MemorySnapshotStore,
  parseHostConfig,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("host http");

function host(httpPort: number) {
  const bus = new InProcessBus();
  const h = new Host({
    hostId: "web",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 10 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    httpPort,
    log: () => {},
  });
  return { h, bus };
}

test("GET with a query string works, POST is 405, events are counted by kind and type", async () => {
  const { h, bus } = host(0);
  await h.start();
  try {
    const base = `http://127.0.0.1:${h.httpPort}`;
    const health = await fetch(`${base}/healthz?x=1`);
    assert.is(health.status, 200);
    const body = await health.json() as { ok: boolean; reasons: string[] };
    assert.is(body.ok, true);
    assert.equal(body.reasons, []);
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    assert.is(post.status, 405);
    assert.is(post.headers.get("allow"), "GET, HEAD");
    await post.text();
    assert.is(await fetch(`${base}/nope`).then(async (r) => (await r.text(), r.status)), 404);

    for (let f = 0; f < 5; f++) {
      const t = new Float64Array(10).map((_, i) => 1e15 + (f * 10 + i) * 1000);
      const v = new Float64Array(10).map((_, i) => i);
      bus.publish(
        feedSubject("w", "c0"),
        encodeFrame({ channel: "c0", seq0: f * 10, t, v }, { id: `w-${f}`, src: "t" }),
      );
    }
    // Applied in the background: asked again until the five are in (a fixed wait failed once
    // under load), at most 5 s.
    const five = /troupe_events_total\{kind="stats",type="stats",host="web"\} 5/;
    let text = "";
    for (const t0 = Date.now(); !five.test(text) && Date.now() - t0 < 5000;) {
      await new Promise((r) => setTimeout(r, 20));
      text = await (await fetch(`${base}/metrics?fresh=1`)).text();
    }
    assert.match(text, five);
    // Nothing waits: the lag behind arrival is 0, whatever the samples' own (1970s) times.
    assert.match(text, /troupe_lag_seconds\{kind="stats",host="web"\} 0\n/);
    assert.match(text, "process_cpu_seconds_total");
    assert.match(text, /troupe_healthy\{host="web"\} 1/);
  } finally {
    await h.stop();
  }
});

test("an HTTP port in use fails the start with a HostFatalError naming it", async () => {
  const blocker = createServer();
  const port = await new Promise<number>((resolve) =>
    blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as { port: number }).port))
  );
  try {
    const { h } = host(port);
    try {
      await h.start();
      assert.unreachable("started on a port in use");
    } catch (err) {
      assert.instance(err, HostFatalError);
      assert.match((err as Error).message, `127.0.0.1:${port}`);
      assert.match((err as Error).message, "in use");
    }
  } finally {
    blocker.close();
  }
});

test("/healthz names what a launched host's service is still warming, and stays 200", async () => {
  const dir = tempDir();
  const config = parseHostConfig({
    host_id: "warm",
    data_dir: dir.path,
    http_port: 0,
    journal: { kind: "memory" },
    snapshots: { store: "memory" },
    actors: Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }])),
  }, ACTOR_KINDS);
  let warming: ((what: string | undefined) => void) | undefined;
  const launched = await launchHost(config, ACTOR_KINDS, {
    bus: new InProcessBus(),
    log: () => {},
    tickEveryMs: 0,
    service: (parts) => {
      warming = parts.warming;
      parts.warming("cache: filling 3 of 10");
      return Promise.resolve({ close: () => Promise.resolve() });
    },
  });
  try {
    const health = async () => {
      const r = await fetch(`http://127.0.0.1:${launched.host.httpPort}/healthz`);
      return { status: r.status, body: await r.json() as { ok: boolean; warming: string[] } };
    };
    const during = await health();
    assert.is(during.status, 200);
    assert.is(during.body.ok, true);
    assert.equal(during.body.warming, ["cache: filling 3 of 10"]);
    warming!(undefined);
    const after = await health();
    assert.equal([after.status, after.body.warming], [200, []]);
  } finally {
    await launched.close();
    dir.remove();
  }
});

test.run();
