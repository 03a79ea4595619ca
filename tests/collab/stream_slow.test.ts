import { suite } from "uvu";
import * as assert from "uvu/assert";
import { haveNatsServer } from "../_support/nats.ts";
import { stallProcess, waitFor } from "./_support.ts";
import { type GatewayEnv, withGateway } from "./_stream_support.ts";
import { type RawFrame, rawWebSocket, type RawWs } from "./_raw_ws.ts";
import {
  decodeStreamServerMessage,
  encodeStreamClientMessage,
  type SlowPolicy,
  type StreamServerMessage,
  type StreamSingleMessage,
} from "../../protocol/mod.ts";

const test = suite("stream gateway slow clients");
const run = haveNatsServer("stream gateway slow clients");

const CLIENT_BOUND = 256 << 10;
const RING_BOUND = 1 << 20;
const PAD = 16 << 10;
const LIMITS = {
  client_buffered_bytes_max: CLIENT_BOUND,
  buffer_bytes_max: RING_BOUND,
  pump_ms: 10,
};

/** Each message of a WebSocket message's bytes (those of a batch one by one). */
function messagesOf(data: Uint8Array): StreamSingleMessage[] {
  const m = decodeStreamServerMessage(data);
  return m.t === "batch" ? m.messages : [m];
}

/**
 * Connects a raw client (asking for batches if `batch`), subscribes to everything under `slow`
 * (in protocol version `v`, none: 1), and waits for the `ok` (and under version 2 the `live`).
 */
async function stalledClient(
  env: GatewayEnv,
  slow: SlowPolicy,
  v?: number,
  batch = false,
): Promise<{ ws: RawWs; got: StreamSingleMessage[]; closes: RawFrame[] }> {
  const ws = await rawWebSocket(env.port, `/stream?token=${env.token}${batch ? "&batch=1" : ""}`);
  const got: StreamSingleMessage[] = [];
  const closes: RawFrame[] = [];
  ws.resume((f) => f.op === "binary" ? got.push(...messagesOf(f.data)) : closes.push(f));
  ws.send(
    encodeStreamClientMessage({
      op: "sub",
      id: 1,
      subjects: ["troupe.out.>"],
      slow,
      ...(v ? { v } : {}),
    }),
  );
  await waitFor(() => got.length === (v === 2 ? 2 : 1), 5_000, "the ok");
  if (v === 2) assert.equal(got[1], { t: "live", sub: 1, seq: env.collab.stream!.stats().seq });
  ws.stall();
  return { ws, got, closes };
}

/**
 * Publishes 16 KiB messages in chunks of `per` until `done` holds (the kernel's socket buffers
 * take some megabytes first), checking the gateway's accounting after each chunk: no socket holds
 * more than its bound plus one frame, and the ring stays within its bytes. Chunks smaller than the
 * bound are past it only once the kernel's buffers are full.
 */
async function flood(env: GatewayEnv, done: () => boolean, per = 50): Promise<void> {
  const gw = env.collab.stream!;
  for (let chunk = 0; chunk < 5000 / per && !done(); chunk++) {
    await env.publish("troupe.out.stats.c1", per, PAD);
    await env.received(env.published());
    await new Promise((r) => setTimeout(r, 20));
    const s = gw.stats();
    assert.ok(
      s.client_buffered_bytes_max <= CLIENT_BOUND + PAD + 100,
      `socket queue ${s.client_buffered_bytes_max}`,
    );
    assert.ok(s.buffer_bytes <= RING_BOUND, `ring ${s.buffer_bytes}`);
  }
  assert.ok(done(), "the flood ended before the gateway acted on the stalled client");
}

test('clients that never read stay bounded, then under slow: "gap" get every seq or a gap naming it (version 2: with lag and live; batched or not)', async () => {
  await withGateway(async (env) => {
    const gw = env.collab.stream!;
    const v1 = await stalledClient(env, "gap");
    const v2 = await stalledClient(env, "gap", 2);
    // A batch weighs its messages' bytes: a socket sent batches is held to the same bound.
    const batched = await stalledClient(env, "gap", 2, true);
    await flood(env, () => gw.stats().dropped_slow > 0);
    await env.publish("troupe.out.stats.c1", 20, PAD);
    await env.received(env.published());
    const latest = gw.stats().seq;
    let missed = 0;
    for (const { ws, got } of [v1, v2, batched]) {
      // It reads again: what it missed is named in gap notices, the rest arrives in order.
      got.length = 0;
      ws.resume((f) => f.op === "binary" && got.push(...messagesOf(f.data)));
      const last = (m: StreamSingleMessage) =>
        m.t === (got === v1.got ? "msg" : "live") && "seq" in m && m.seq === latest;
      await waitFor(() => got.some(last), 20_000, "the last message");
      let next = 1;
      for (const m of got) {
        if (m.t === "gap") {
          assert.is(m.from, next, "a gap starts where the messages stopped");
          assert.is(m.missed, m.to - m.from + 1);
          missed += m.missed;
          next = m.to + 1;
        } else if (m.t === "msg") {
          assert.is(m.seq, next, "no loss, no repeat outside a gap");
          next++;
        } else if (m.t === "lag") assert.is(m.seq, next - 1, "lag names where it fell behind");
      }
      assert.is(next, latest + 1);
      const notices = got.filter((m) => m.t === "live" || m.t === "lag");
      if (got === v1.got) assert.equal(notices, [], "version 1: no live or lag notice");
      else {
        assert.is(notices[0]!.t, "lag");
        assert.ok(got.indexOf(notices[0]!) < got.findIndex((m) => m.t === "gap"));
        assert.equal(notices.at(-1), { t: "live", sub: 1, seq: latest });
        assert.equal(got.at(-1), notices.at(-1), "live once caught up");
      }
    }
    const s = gw.stats();
    assert.ok(s.gaps_sent >= 3);
    assert.ok(s.batches_sent > 0, "the batched client was sent batches");
    assert.is(s.dropped_slow, missed, "the gateway's count of drops is what the gaps told");
    assert.is(s.lagging_clients, 0, "caught up, live again");
    v1.ws.socket.destroy();
    v2.ws.socket.destroy();
    batched.ws.socket.destroy();
  }, LIMITS);
});

/**
 * A client under slow: "close" stops reading beside a bystander that reads, and the flood goes on
 * until the gateway closes it. Then, after a stall of this process of `stallMs` (the gateway and
 * the clients in it), it reads again (`resume`) or never does.
 */
async function closedSlow(
  env: GatewayEnv,
  { stallMs, resume }: { stallMs: number; resume: boolean },
): Promise<void> {
  const gw = env.collab.stream!;
  const bystander = await stalledClient(env, "gap");
  bystander.ws.resume(() => {}); // this one reads
  const { ws, closes } = await stalledClient(env, "close");
  // In chunks of 64 KiB: when it is closed, the kernel's buffers are full and what it did not
  // read, the close frame behind it, waits in the gateway.
  await flood(env, () => gw.stats().closed_slow > 0, 4);
  if (stallMs > 0) stallProcess(stallMs);
  if (!resume) {
    // Never read again: cut once its unsent bytes stop shrinking, or, when they all went to the
    // kernel's buffers, by ws's closing handshake (30 s from the close).
    await waitFor(() => gw.stats().clients === 1, 40_000, "the stalled client cut");
    assert.equal(closes, [], "it read nothing, so nothing came");
  } else {
    // It answers the close as a WebSocket client does, and the gateway then ends the connection.
    ws.resume((f) => {
      if (f.op !== "binary") closes.push(f);
      if (f.op === "close") ws.sendClose(f.code);
    });
    await ws.ended;
    // The close frame is queued behind what it did not read; it reads it once it reads again.
    const close = closes.find((f) => f.op === "close");
    assert.is(close?.op === "close" ? close.code : close, 4008);
    assert.match(
      close?.op === "close" ? close.reason : "",
      /slow consumer: \d+ bytes buffered, bound 262144/,
    );
    await waitFor(() => gw.stats().clients === 1, 5_000, "only the bystander left");
  }
  assert.is(gw.stats().closed_slow, 1);
  bystander.ws.socket.destroy();
  ws.socket.destroy();
}

test('a client that stops reading under slow: "close" is closed with 4008 naming the bytes buffered', async () => {
  await withGateway((env) => closedSlow(env, { stallMs: 0, resume: true }), LIMITS);
});

test('a client under slow: "close" that reads again after a stall of the gateway still reads its 4008 and why', async () => {
  // 2.5 s: longer than the gateway once gave such a client, from the close, to read it.
  await withGateway((env) => closedSlow(env, { stallMs: 2500, resume: true }), LIMITS);
});

test('a client under slow: "close" that never reads again is cut', async () => {
  await withGateway((env) => closedSlow(env, { stallMs: 0, resume: false }), LIMITS);
});

test("ending a subscription that is catching up hands what it owed to the next that matches: every message once, none lost", async () => {
  await withGateway(async (env) => {
    const gw = env.collab.stream!;
    // A backlog far larger than the socket's bound: a backfill of it is fed over many pump turns.
    await env.publish("troupe.out.stats.c1", 500, PAD);
    await env.received(env.published());
    const ws = await rawWebSocket(env.port, `/stream?token=${env.token}`);
    const got: StreamServerMessage[] = [];
    ws.resume((f) => f.op === "binary" && got.push(decodeStreamServerMessage(f.data)));
    const sub = (id: number, subjects: string[], since?: number) =>
      ws.send(encodeStreamClientMessage({
        op: "sub",
        id,
        subjects,
        v: 2,
        ...(since === undefined ? {} : { since }),
      }));
    sub(1, ["troupe.out.>"], 0); // catching up from the start
    sub(2, ["troupe.out.anomaly.>"]); // live, after it: leaves what 1 covers to 1
    await waitFor(() => got.some((m) => m.t === "live" && m.sub === 2), 5_000, "2 live");
    const first = gw.stats().seq + 1;
    await env.publish("troupe.out.anomaly.a1", 50);
    await env.received(env.published());
    assert.is(gw.stats().lagging_clients, 1, "the backfill is still going when 1 is ended");
    ws.send(encodeStreamClientMessage({ op: "unsub", id: 1 }));
    sub(1, ["troupe.out.coherence.>"]); // its id is free again at once
    await env.publish("troupe.out.anomaly.a1", 10);
    const last = first + 59;
    await waitFor(
      () => gw.stats().lagging_clients === 0 && got.some((m) => m.t === "msg" && m.seq === last),
      20_000,
      "the last anomaly",
    );
    // What the pump sent before the gateway's lagging count fell may still be on its way: a pong
    // comes after every frame sent before it on the socket.
    ws.send(encodeStreamClientMessage({ op: "ping", id: 7 }));
    await waitFor(() => got.some((m) => m.t === "pong" && m.id === 7), 5_000, "the pong");
    const anomalies = got.filter((m) => m.t === "msg" && m.subject.startsWith("troupe.out.anom"));
    const seqs = anomalies.map((m) => (m.t === "msg" ? m.seq : 0)).sort((a, b) => a - b);
    assert.equal(seqs, Array.from({ length: 60 }, (_, i) => first + i), "each anomaly once");
    assert.ok(
      anomalies.some((m) => m.t === "msg" && m.sub === 2 && m.seq < first + 50),
      "what 1 owed went out under 2",
    );
    assert.not.ok(got.some((m) => m.t === "err"), "no error: 1 was ended and taken again");
    assert.ok(got.some((m) => m.t === "ok" && m.id === 1 && m.seq >= first + 49));
    assert.equal(got.filter((m) => m.t === "gap"), [], "nothing evicted, nothing told");
    assert.is(gw.stats().subscriptions, 2, "the retired subscription is gone");
    ws.socket.destroy();
  }, { ...LIMITS, buffer_bytes_max: 12 << 20 });
});

if (run) test.run();
