/**
 * Exact resume with several subscriptions on one socket (protocol version 2), against a real
 * nats-server and gateway over real sockets: a busy live subscription, a quiet live one, and one
 * backfilling from the ring that overlaps the busy one. The socket is cut in the middle of the
 * backfill, then after the ring has moved past the quiet one's last message, then for longer than
 * the ring holds.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { WebSocket } from "ws";
import type { StreamSocketConstructor } from "../../collab/mod.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { waitFor } from "./_support.ts";
import { indexOf, record, type Recorder, withGateway } from "./_stream_support.ts";

const test = suite("stream resume");
const run = haveNatsServer("stream resume");
const RING = 1_500;

test("three subscriptions cut mid-backfill, after a quiet spell and past the ring: each message once, in order, gaps only when real", async () => {
  await withGateway(async (env) => {
    const sockets: WebSocket[] = [];
    let offline = false;
    class Cuttable extends WebSocket {
      constructor(url: string) {
        // Offline, the client's reconnects are refused, as by a network that is down.
        super(offline ? url.replace(`:${env.port}/`, ":1/") : url);
        sockets.push(this);
      }
    }
    const cut = () => sockets.at(-1)!.terminate();
    // 1,000 messages in the ring before the client comes: what the third subscription backfills.
    await env.publish("troupe.out.stats.c0", 1_000);
    await env.received(1_000);
    let backfilled = 0;
    const live = new Map<number, number>();
    // `r` is only read by callbacks, which run after it is assigned.
    const r: Recorder = record(env, [
      { subjects: ["troupe.out.stats.*"] }, // 1: busy, live
      { subjects: ["troupe.out.anomaly.*"] }, // 2: quiet, live
    ], {
      WebSocket: Cuttable as unknown as StreamSocketConstructor,
      backoff_ms_max: 200,
      onLive: (id, seq) => live.set(id, seq),
      onMessage: (m) => {
        r.msgs.push(m);
        // Mid-backfill, once the busy one has had live messages the backfill also covers.
        if (m.sub === 3 && ++backfilled === 100) cut();
      },
    });
    const allLive = () => waitFor(() => live.size === 3, 10_000, "all three subscriptions live");
    await waitFor(() => live.size === 2, 10_000, "the first two live");
    // Live traffic: one anomaly, then stats on four channels; the third subscribes and backfills
    // (from seq 1, channel c0) once the first has had some.
    await env.publish("troupe.out.anomaly.c1", 1);
    for (let i = 0; i < 300; i++) {
      await env.publish(`troupe.out.stats.c${i % 4}`, 1);
      if (i % 4 === 3) await new Promise((res) => setTimeout(res, 4));
      if (i === 40) {
        r.client.subscribe({ subjects: ["troupe.out.stats.*"], channels: ["c0"], since: 0 });
      }
    }
    await waitFor(() => r.msgs.length >= env.published(), 10_000, "every message so far");
    assert.ok(sockets.length >= 2, "the cut mid-backfill happened");
    // Messages the backfill covers may come again under it after the cut, and are dropped; how
    // many depends on the timing (on this machine none did, on either runtime), so the dropping
    // itself is tested with a peer that sends the overlap on purpose (stream_client_dedupe.test).
    if (r.client.duplicates === 0) console.log("stream resume: no message came twice this run");
    await allLive();
    // The ring moves on far past the quiet one's anomaly (seq 1001), then the socket drops again.
    await env.publish("troupe.out.stats.c2", RING);
    await waitFor(() => r.msgs.length >= env.published(), 10_000, "the burst");
    assert.ok(r.client.cursorOf(2)! > 1_001 + RING, `quiet cursor ${r.client.cursorOf(2)}`);
    live.clear();
    cut();
    await allLive();
    assert.equal(r.gaps, [], "no gap notice so far");
    // A real gap: offline while more than the ring holds goes by.
    const before = [1, 2, 3].map((id) => r.client.cursorOf(id)!);
    const lostFrom = env.published();
    offline = true;
    live.clear();
    cut();
    await env.publish("troupe.out.stats.c3", RING + 100);
    await env.received(env.published());
    offline = false;
    await allLive();
    await waitFor(() => r.msgs.length >= env.published() - 100, 10_000, "what the ring held");
    await new Promise((res) => setTimeout(res, 100)); // nothing more comes
    const latest = env.published();
    const oldest = latest - RING + 1;
    assert.equal(
      r.gaps.map((g) => [g.sub, g.from, g.to, g.missed]).sort(),
      [1, 2, 3].map((id, i) => [id, before[i]! + 1, oldest - 1, oldest - 1 - before[i]!]),
    );
    assert.equal(before, [latest - RING - 100, latest - RING - 100, latest - RING - 100]);
    // Each message exactly once but the 100 lost, and in seq order under each subscription.
    const got = r.msgs.map(indexOf).sort((a, b) => a - b);
    const want = Array.from({ length: latest }, (_, i) => i)
      .filter((i) => i < lostFrom || i >= lostFrom + 100);
    assert.is(got.length, want.length);
    assert.equal(got, want);
    for (const id of [1, 2, 3]) {
      const seqs = r.msgs.filter((m) => m.sub === id).map((m) => m.seq);
      assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `sub ${id} in seq order`);
    }
    assert.equal(r.msgs.filter((m) => m.sub === 2).map(indexOf), [1_000], "the quiet one");
    r.client.close();
  }, { buffer_messages_max: RING, client_buffered_bytes_max: 4_096 });
});

if (run) test.run();
