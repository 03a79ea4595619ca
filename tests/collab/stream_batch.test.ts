/**
 * The stream gateway's batches, against a real nats-server and gateway and raw WebSocket clients
 * (no extension negotiated, so each WebSocket message the gateway sends is a frame counted here):
 * a socket that asked for batches (`?batch=1`) is sent a burst in far fewer WebSocket messages,
 * each message inside byte for byte what a socket that did not ask is sent alone, every one once
 * and in order; a batch holds at most `batch_bytes_max` bytes of messages; and StreamClient,
 * which asks for them, hands every message over in order.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { haveNatsServer } from "../_support/nats.ts";
import { getText, metric, waitFor } from "./_support.ts";
import { type GatewayEnv, record, withGateway } from "./_stream_support.ts";
import { rawWebSocket, type RawWs } from "./_raw_ws.ts";
import {
  decodeStreamServerMessage,
  encodeStreamClientMessage,
  readStreamBatch,
  type StreamSingleMessage,
} from "../../protocol/mod.ts";

const NAME = "stream gateway batches";
const test = suite(NAME);
const run = haveNatsServer(NAME);

/** A raw client subscribed to `troupe.out.>` (v2), recording each WebSocket message's bytes. */
async function rawClient(
  env: GatewayEnv,
  batch: boolean,
): Promise<{ ws: RawWs; frames: Uint8Array[] }> {
  const ws = await rawWebSocket(env.port, `/stream?token=${env.token}${batch ? "&batch=1" : ""}`);
  const frames: Uint8Array[] = [];
  ws.resume((f) => f.op === "binary" && frames.push(f.data));
  ws.send(encodeStreamClientMessage({ op: "sub", id: 1, subjects: ["troupe.out.>"], v: 2 }));
  await waitFor(() => unbatched(frames).length >= 2, 5_000, "the ok and the live");
  return { ws, frames };
}

/** Each WebSocket message's messages, as the bytes each would have been alone. */
function unbatched(frames: Uint8Array[]): Uint8Array[] {
  return frames.flatMap((f) => readStreamBatch(f) ?? [f]);
}

/** The seqs of the `msg`s among `messages`, in the order received. */
function seqsOf(messages: Uint8Array[]): number[] {
  return messages.map((b) => decodeStreamServerMessage(b) as StreamSingleMessage)
    .flatMap((m) => (m.t === "msg" ? [m.seq] : []));
}

test("a socket that asked for batches gets a burst in far fewer WebSocket messages, each message as sent alone, every one once and in order", async () => {
  await withGateway(async (env) => {
    const gw = env.collab.stream!;
    const batched = await rawClient(env, true);
    const single = await rawClient(env, false);
    const first = gw.stats().seq + 1;
    // What came before the burst: the ok and the live (in one batch, sent in the same turn).
    const before = [batched.frames.length, single.frames.length];
    const n = 3000;
    await env.publish("troupe.out.anomaly.c1", n, 40);
    const last = first + n - 1;
    const has = (frames: Uint8Array[]) => () => seqsOf(unbatched(frames)).at(-1) === last;
    await waitFor(has(batched.frames), 10_000, "the last message, batched");
    await waitFor(has(single.frames), 10_000, "the last message, alone");
    const want = Array.from({ length: n }, (_, i) => first + i);
    const burst = batched.frames.slice(before[0]);
    const inside = unbatched(burst);
    assert.equal(seqsOf(inside), want, "every message once, in order, batched");
    assert.equal(seqsOf(single.frames), want, "every message once, in order, alone");
    assert.is(before[1], 2);
    assert.is(single.frames.length, 2 + n, "a socket that did not ask: one WebSocket message each");
    assert.ok(burst.length * 10 <= n, `${n} messages in ${burst.length} WebSocket messages`);
    const batches = batched.frames.filter((f) => readStreamBatch(f) !== undefined).length;
    assert.ok(batches > 0);
    assert.is(gw.stats().batches_sent, batches, "each batch counted, and none to the other");
    const text = await getText(`http://127.0.0.1:${env.port}/metrics`);
    assert.is(metric(text, "troupe_stream_batches_sent_total"), batches);
    // Byte for byte what the socket that did not ask for batches was sent alone.
    const alone = single.frames.slice(2);
    assert.is(inside.length, alone.length);
    assert.ok(inside.every((b, i) => Buffer.compare(b, alone[i]!) === 0), "the same bytes");
    batched.ws.socket.destroy();
    single.ws.socket.destroy();
  });
});

test("a batch holds at most batch_bytes_max bytes of messages; the rest go in the next, in order", async () => {
  const max = 4096;
  await withGateway(async (env) => {
    const { ws, frames } = await rawClient(env, true);
    const before = frames.length;
    const first = env.collab.stream!.stats().seq + 1;
    const n = 600;
    await env.publish("troupe.out.anomaly.c2", n, 200);
    const last = first + n - 1;
    await waitFor(() => seqsOf(unbatched(frames)).at(-1) === last, 10_000, "the last message");
    const burst = frames.slice(before);
    const sizes = burst.map((f) => readStreamBatch(f)?.reduce((s, m) => s + m.length, 0));
    const batches = sizes.filter((s) => s !== undefined);
    assert.ok(batches.length > 1, `several batches: ${sizes.length} WebSocket messages`);
    assert.ok(batches.every((s) => s <= max), `each at most ${max} bytes: ${batches}`);
    // Most are full: a batch closes only when the next message would not fit.
    assert.ok(batches.filter((s) => s > max - 300).length >= batches.length / 2, `${batches}`);
    assert.equal(seqsOf(unbatched(burst)), Array.from({ length: n }, (_, i) => first + i));
    ws.socket.destroy();
  }, { batch_bytes_max: max });
});

test("StreamClient asks for batches and hands every message over, once and in order", async () => {
  await withGateway(async (env) => {
    const r = record(env, [{ subjects: ["troupe.out.>"] }]);
    await r.ready(1);
    const first = env.collab.stream!.stats().seq + 1;
    const n = 2000;
    await env.publish("troupe.out.coherence.c3", n);
    await waitFor(() => r.msgs.length >= n, 10_000, "every message");
    assert.equal(r.msgs.map((m) => m.seq), Array.from({ length: n }, (_, i) => first + i));
    assert.equal(
      r.msgs.map((m) => new DataView(m.data.buffer, m.data.byteOffset).getUint32(0)),
      Array.from({ length: n }, (_, i) => i),
      "each message's own payload",
    );
    assert.ok(env.collab.stream!.stats().batches_sent > 0, "it was sent batches");
    r.client.close();
  });
});

if (run) test.run();
