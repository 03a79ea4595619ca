import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encode } from "@msgpack/msgpack";
import { Keyring, launchCollab, mintToken } from "../../collab/mod.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { getText, metric, rawConnect, tokenFor, waitFor } from "./_support.ts";
import { indexOf, record, withGateway } from "./_stream_support.ts";
import { decodeStreamServerMessage, encodeStreamClientMessage } from "../../protocol/mod.ts";

const test = suite("stream gateway");
const run = haveNatsServer("stream gateway");

test("relays troupe.out messages to each client by its subject patterns and channel globs", async () => {
  await withGateway(async (env) => {
    const a = record(env, [{ subjects: ["troupe.out.anomaly.*"], channels: ["BTC*"] }]);
    const b = record(env, [{ subjects: ["troupe.out.>", "troupe.dlq.>"] }]);
    await a.ready(1);
    await b.ready(1);
    await env.publish("troupe.out.anomaly.BTC-USD", 2);
    await env.publish("troupe.out.anomaly.ETH", 1);
    await env.publish("troupe.out.stats.BTC", 1);
    await env.publish("troupe.feed.m.BTC", 1); // not relayed at all
    await env.publish("troupe.dlq.decode", 1);
    await env.publish("troupe.out.anomaly.BTC", 1);
    await waitFor(() => b.msgs.length === 6 && a.msgs.length === 3, 10_000, "both clients");
    assert.equal(a.msgs.map((m) => [m.subject, indexOf(m)]), [
      ["troupe.out.anomaly.BTC-USD", 0],
      ["troupe.out.anomaly.BTC-USD", 1],
      ["troupe.out.anomaly.BTC", 6],
    ]);
    assert.equal(b.msgs.map((m) => indexOf(m)), [0, 1, 2, 3, 5, 6]);
    assert.equal(b.msgs.map((m) => m.seq), [1, 2, 3, 4, 5, 6], "one seq per message relayed");
    assert.ok(b.msgs.every((m) => m.sub === 1));
    const text = await getText(`http://127.0.0.1:${env.port}/metrics`);
    assert.is(metric(text, "troupe_stream_clients"), 2);
    assert.is(metric(text, "troupe_stream_received_total"), 6);
    assert.is(metric(text, "troupe_stream_relayed_total"), 9);
    assert.is(metric(text, "troupe_stream_buffer_messages"), 6);
    assert.ok(metric(text, "troupe_stream_buffer_bytes") > 6 * 4);
    a.client.close();
    b.client.close();
  });
});

test("a client cut off resumes with since: exactly the missed messages, then live, no repeat", async () => {
  await withGateway(async (env) => {
    const c = record(env, [{ subjects: ["troupe.out.>"] }], { backoff_ms_min: 300 });
    await c.ready(1);
    await env.publish("troupe.out.stats.c1", 50);
    await waitFor(() => c.msgs.length === 50, 10_000, "the first 50");
    c.subscribed.clear();
    c.sockets.at(-1)!.terminate(); // the network drops; the client reconnects after 300 ms
    await env.publish("troupe.out.stats.c1", 50); // while it is away
    await c.ready(1);
    await env.publish("troupe.out.stats.c1", 50); // live again
    await waitFor(() => c.msgs.length >= 150, 10_000, "all 150");
    await new Promise((r) => setTimeout(r, 100));
    assert.is(c.sockets.length, 2, "one reconnect");
    assert.equal(c.msgs.map(indexOf), Array.from({ length: 150 }, (_, i) => i));
    assert.equal(c.msgs.map((m) => m.seq), Array.from({ length: 150 }, (_, i) => i + 1));
    assert.is(c.gaps.length, 0);
    c.client.close();
  });
});

test("since older than the buffer gets a gap notice, then what is held, then live", async () => {
  await withGateway(async (env) => {
    await env.publish("troupe.out.stats.c1", 30);
    await env.received(30);
    const c = record(env, [{ subjects: ["troupe.out.>"], since: 0 }]);
    await c.ready(1);
    assert.equal(c.subscribed.get(1), { seq: 30, oldest: 21 });
    await waitFor(() => c.msgs.length === 10, 10_000, "the 10 held");
    assert.equal(c.gaps, [{ t: "gap", sub: 1, missed: 20, from: 1, to: 20 }]);
    await env.publish("troupe.out.stats.c1", 5);
    await waitFor(() => c.msgs.length === 15, 10_000, "5 live");
    assert.equal(c.msgs.map((m) => m.seq), Array.from({ length: 15 }, (_, i) => i + 21));
    // A since within the buffer: no gap, only what came after it.
    const d = record(env, [{ subjects: ["troupe.out.>"], since: 32 }]);
    await waitFor(() => d.msgs.length === 3, 10_000, "d's 3");
    assert.equal(d.msgs.map((m) => m.seq), [33, 34, 35]);
    assert.is(d.gaps.length, 0);
    c.client.close();
    d.client.close();
  }, { buffer_messages_max: 10 });
});

test("a wrong, expired or missing token is refused with 401 and the reason; any session's token is taken", async () => {
  await withGateway(async (env) => {
    const other = await Keyring.fromSecrets([new TextEncoder().encode("some-other-secret")]);
    const forged = await mintToken(other, {
      session: "main",
      role: "owner",
      ttlS: 60,
      nowMs: Date.now(),
    });
    const expired = await tokenFor(env.dataDir, "main", "owner", 0.001);
    await new Promise((r) => setTimeout(r, 20)); // its millisecond of life is over
    const cases: Array<[string, RegExp]> = [
      [env.url, /No token/],
      [`${env.url}?token=${forged}`, /key id/],
      [`${env.url}?token=nonsense`, /not <payload>/],
      [`${env.url}?token=${expired}`, /expired/],
    ];
    for (const [url, why] of cases) {
      const r = await rawConnect(url);
      assert.ok("status" in r, `refused: ${url}`);
      if ("status" in r) {
        assert.is(r.status, 401);
        assert.match(r.body, why);
      }
    }
    const text = await getText(`http://127.0.0.1:${env.port}/metrics`);
    assert.is(metric(text, "troupe_stream_refused_total"), 4);
    assert.is(metric(text, "troupe_stream_refused_total", 'reason="expired"'), 1);
    const ok = await rawConnect(
      `${env.url}?token=${await tokenFor(env.dataDir, "elsewhere", "viewer")}`,
    );
    assert.ok("ws" in ok);
    if ("ws" in ok) ok.ws.close();
  });
});

test("a token that expires while connected closes the socket with 4401", async () => {
  await withGateway(async (env) => {
    const token = await tokenFor(env.dataDir, "main", "viewer", 1);
    const c = record({ url: env.url, token }, [{ subjects: ["troupe.out.>"] }]);
    await c.ready(1);
    await waitFor(() => c.closes.length === 1, 5_000, "the expiry close");
    assert.is(c.closes[0]!.code, 4401);
    assert.match(c.closes[0]!.reason, /token expired at/);
    await new Promise((r) => setTimeout(r, 200));
    assert.is(c.sockets.length, 1, "no reconnect with an expired token");
  });
});

test("a pattern outside the relayed prefixes is refused with the reason and the socket stays open", async () => {
  await withGateway(async (env) => {
    const r = await rawConnect(`${env.url}?token=${env.token}`);
    if (!("ws" in r)) throw new Error("not connected");
    const replies: unknown[] = [];
    r.ws.on("message", (d: Buffer) => replies.push(decodeStreamServerMessage(new Uint8Array(d))));
    r.ws.send(encode({ op: "sub", id: 7, subjects: ["troupe.feed.market.BTC"] }));
    await waitFor(() => replies.length === 1, 5_000, "the refusal");
    assert.is((replies[0] as { t: string }).t, "err");
    assert.match(
      (replies[0] as { reason: string }).reason,
      /field "subjects" is outside the relayed subjects .*got "troupe\.feed\.market\.BTC"/,
    );
    r.ws.send(encodeStreamClientMessage({ op: "ping", id: 8 }));
    await waitFor(() => replies.length === 2, 5_000, "the pong");
    assert.equal(replies[1], { t: "pong", id: 8 });
    r.ws.close();
  });
});

test("a malformed client message closes only that socket, with the reason", async () => {
  await withGateway(async (env) => {
    const bystander = record(env, [{ subjects: ["troupe.out.>"] }]);
    await bystander.ready(1);
    const bad: Array<[Uint8Array | string, number, RegExp]> = [
      [new Uint8Array([0xc1, 0x00]), 1007, /not msgpack/],
      [encode({ op: "sub", id: 1, subjects: "troupe.out.>" }), 1007, /field "subjects"/],
      [encode({ op: "jump", id: 1 }), 1007, /field "op" .* got "jump"/],
      ['{"op":"ping"}', 1003, /text frames/],
    ];
    for (const [data, code, why] of bad) {
      const r = await rawConnect(`${env.url}?token=${env.token}`);
      if (!("ws" in r)) throw new Error("not connected");
      const closed = new Promise<[number, string]>((res) =>
        r.ws.on("close", (c, w) => res([c, String(w)]))
      );
      r.ws.send(data);
      const [gotCode, reason] = await closed;
      assert.is(gotCode, code);
      assert.match(reason, why);
    }
    await env.publish("troupe.out.stats.c1", 3);
    await waitFor(() => bystander.msgs.length === 3, 5_000, "the bystander still served");
    assert.is(env.collab.stream!.stats().closed_malformed, 4);
    assert.is(env.collab.stream!.stats().clients, 1);
    bystander.client.close();
  });
});

test("one socket's work is bounded: a 65th subscription is refused, over 100 messages a second close it with 4029", async () => {
  await withGateway(async (env) => {
    const bystander = record(env, [{ subjects: ["troupe.out.>"] }]);
    await bystander.ready(1);
    const many = await rawConnect(`${env.url}?token=${env.token}`);
    if (!("ws" in many)) throw new Error("not connected");
    const replies: Array<{ t: string; id: number; reason?: string }> = [];
    many.ws.on("message", (d: Buffer) => {
      replies.push(decodeStreamServerMessage(new Uint8Array(d)) as { t: string; id: number });
    });
    for (let id = 1; id <= 65; id++) {
      many.ws.send(encodeStreamClientMessage({ op: "sub", id, subjects: [`troupe.out.s${id}.>`] }));
    }
    await waitFor(() => replies.length === 65, 5_000, "65 replies");
    assert.is(replies.filter((r) => r.t === "ok").length, 64);
    const refused = replies.find((r) => r.id === 65);
    assert.is(refused?.t, "err");
    assert.match(refused?.reason ?? "", /At most 64 subscriptions per socket/);
    many.ws.send(encodeStreamClientMessage({ op: "ping", id: 99 }));
    await waitFor(() => replies.length === 66, 5_000, "the pong: the socket stays open");

    const flood = await rawConnect(`${env.url}?token=${env.token}`);
    if (!("ws" in flood)) throw new Error("not connected");
    let pongs = 0;
    flood.ws.on("message", () => pongs++);
    const closed = new Promise<[number, string]>((res) =>
      flood.ws.on("close", (c, w) => res([c, String(w)]))
    );
    for (let id = 1; id <= 150; id++) flood.ws.send(encodeStreamClientMessage({ op: "ping", id }));
    const [code, reason] = await closed;
    assert.is(code, 4029);
    assert.match(reason, /too many messages: more than 100 a second from this socket/);
    // The allowance refills while the pings arrive (100 a second), so a few more than 100 pass.
    assert.ok(pongs >= 100 && pongs < 150, `answered the first 100 and not all, got ${pongs}`);
    await env.publish("troupe.out.stats.c1", 3);
    await waitFor(() => bystander.msgs.length === 3, 5_000, "the bystander still served");
    assert.is(env.collab.stream!.stats().closed_rate, 1);
    const text = await getText(`http://127.0.0.1:${env.port}/metrics`);
    assert.is(metric(text, "troupe_stream_closed_rate_total"), 1);
    many.ws.close();
    bystander.client.close();
  });
});

test("/stream on a collab server without NATS answers 503 naming why", async () => {
  const dir = tempDir("troupe-stream-");
  const collab = await launchCollab({ dataDir: dir.path });
  try {
    const token = await tokenFor(dir.path, "main", "viewer");
    const r = await rawConnect(`ws://127.0.0.1:${collab.server.port}/stream?token=${token}`);
    assert.ok("status" in r);
    if ("status" in r) {
      assert.is(r.status, 503);
      assert.match(r.body, /without NATS/);
    }
  } finally {
    await collab.close();
    dir.remove();
  }
});

if (run) test.run();
