/**
 * The metrics receiver's doors over real HTTP: with a bearer token or basic auth set, `/metrics`
 * (whose labels name every series sent) is refused without them, 401 with `WWW-Authenticate`
 * and a body naming what is missing or wrong, and served with them; `/healthz` stays open; a
 * remote-write request's refusal carries the same challenge.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { IngestServer, parseIngestSettings } from "../../../actors/ingest/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { encodeWriteRequest, snappyCompress } from "../../../protocol/prometheus/mod.ts";
import { ConfigError } from "../../../protocol/mod.ts";

const test = suite("ingest auth");

async function receiver(settings: Record<string, unknown>) {
  const bus = new InProcessBus();
  const server = new IngestServer(parseIngestSettings({ port: 0, ...settings }), {
    bus,
    durable: false,
  });
  await server.start();
  const url = `http://127.0.0.1:${server.port}`;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${url}${path}`, { headers });
    return { status: r.status, text: await r.text(), challenge: r.headers.get("www-authenticate") };
  };
  return {
    url,
    get,
    async close() {
      await server.stop();
      await bus.close();
    },
  };
}

const body = snappyCompress(encodeWriteRequest({
  timeseries: [{
    labels: [{ name: "__name__", value: "up" }, { name: "job", value: "api" }],
    samples: [{ value: 1, timestamp: 1_700_000_000_000 }],
  }],
})) as Uint8Array<ArrayBuffer>;

test("with a bearer token, /metrics is 401 with WWW-Authenticate without it or with a wrong one, 200 with it; /healthz stays open", async () => {
  const r = await receiver({ bearer_token: "rw-token-1" });
  try {
    const none = await r.get("/metrics");
    assert.is(none.status, 401);
    assert.is(none.challenge, 'Bearer realm="troupe metrics receiver"');
    assert.match(
      none.text,
      "the Authorization header is missing; this endpoint takes a bearer token",
    );
    assert.not.match(none.text, "troupe_ingest");
    const wrong = await r.get("/metrics", { authorization: "Bearer rw-token-2" });
    assert.is(wrong.status, 401);
    assert.match(wrong.text, "bearer token is wrong");
    assert.not.match(wrong.text, "rw-token-1");
    const basic = await r.get("/metrics", { authorization: `Basic ${btoa("a:rw-token-1")}` });
    assert.is(basic.status, 401);
    assert.match(basic.text, "is not a bearer token");
    const right = await r.get("/metrics", { authorization: "Bearer rw-token-1" });
    assert.is(right.status, 200, right.text);
    assert.match(right.text, "troupe_ingest_samples_total");
    const health = await r.get("/healthz");
    assert.is(health.status, 200);
    assert.is(health.text, "ok\n");

    const write = await fetch(`${r.url}/api/v1/write`, { method: "POST", body });
    assert.is(write.status, 401);
    assert.is(write.headers.get("www-authenticate"), 'Bearer realm="troupe metrics receiver"');
    await write.text();
    const after = await r.get("/metrics", { authorization: "Bearer rw-token-1" });
    assert.match(after.text, 'troupe_ingest_requests_total{api="remote_write",code="401"} 1');
  } finally {
    await r.close();
  }
});

test("with basic auth, /metrics asks it (WWW-Authenticate: Basic) and takes the right user and password only", async () => {
  const r = await receiver({ basic_auth: { username: "prom", password: "pässword" } });
  try {
    const none = await r.get("/metrics");
    assert.is(none.status, 401);
    assert.is(none.challenge, 'Basic realm="troupe metrics receiver"');
    const utf8 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
    const wrong = await r.get("/metrics", { authorization: `Basic ${utf8("prom:password")}` });
    assert.is(wrong.status, 401);
    assert.match(wrong.text, "basic auth credentials are wrong");
    const right = await r.get("/metrics", { authorization: `Basic ${utf8("prom:pässword")}` });
    assert.is(right.status, 200, right.text);
    assert.match(right.text, "troupe_ingest_channels");
    assert.is((await r.get("/healthz")).status, 200);
  } finally {
    await r.close();
  }
});

test("without credentials set, /metrics is served as before", async () => {
  const r = await receiver({});
  try {
    const open = await r.get("/metrics");
    assert.is(open.status, 200);
    assert.is(open.challenge, null);
  } finally {
    await r.close();
  }
});

test("a bearer token that is not one (a space, a quote) is refused naming the field, not showing it", () => {
  try {
    parseIngestSettings({ bearer_token: 'tok "en secret' });
    assert.unreachable("taken");
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as ConfigError).field, "remote_write.bearer_token");
    assert.match((err as Error).message, "remote_write.bearer_token must be a bearer token");
    assert.not.match((err as Error).message, "secret");
  }
});

test.run();
