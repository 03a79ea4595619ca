import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { NatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import { PlainPublisher } from "../../../../actors/runtime/transport/_plain_publisher.ts";
import { bytesEqual } from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats } from "../../../_support/nats.ts";

const enc = new TextEncoder();

/** Collects what `subject` delivers until `count` messages came or `ms` passed. */
function collect(sub: AsyncIterable<Msg>, count: number): Promise<Msg[]> {
  return (async () => {
    const got: Msg[] = [];
    for await (const m of sub) {
      got.push(m);
      if (got.length === count) break;
    }
    return got;
  })();
}

/** Resolves at `nc`'s next status of `type`. */
async function nextStatus(nc: NatsConnection, type: string): Promise<void> {
  for await (const s of nc.status()) if (s.type === type) return;
}

if (haveNatsServer("plain_publisher")) {
  test("plain publishes arrive byte for byte, in order, across many slabs", async () => {
    const server = await startTestNats();
    const pub = await connect({ servers: server.url });
    const sub = await connect({ servers: server.url });
    try {
      const plain = new PlainPublisher(pub);
      assert.ok(
        plain.direct,
        "the installed nats.js's outbound queue is found (else no fast path)",
      );
      const s = sub.subscribe("pp.>");
      await sub.flush();
      // Subjects and payloads of many lengths: 20,000 lines of 14 to 78 bytes fill some 15 slabs.
      const sent: { subject: string; data: Uint8Array }[] = [];
      for (let i = 0; i < 20_000; i++) {
        const subject = `pp.${"k".repeat(1 + (i % 60))}.${i}`;
        const data = i % 97 === 0 ? new Uint8Array(0) : enc.encode(`payload ${i} `.repeat(i % 7));
        sent.push({ subject, data });
      }
      const before = pub.stats();
      const done = collect(s, sent.length);
      for (const m of sent) plain.publish(m.subject, m.data);
      await pub.flush();
      const got = await done;
      assert.is(got.length, sent.length);
      for (let i = 0; i < sent.length; i++) {
        assert.is(got[i]!.subject, sent[i]!.subject, `message ${i}'s subject`);
        assert.ok(bytesEqual(got[i]!.data, sent[i]!.data), `message ${i}'s payload`);
      }
      const after = pub.stats();
      assert.is(after.outMsgs - before.outMsgs, sent.length, "counted as nats.js counts");
      const bytes = sent.reduce((n, m) => n + m.data.length, 0);
      assert.is(after.outBytes - before.outBytes, bytes);
    } finally {
      await pub.close();
      await sub.close();
      await server.cleanup();
    }
  });

  test("a request's reply and headers arrive as nats.js's own publish delivers them", async () => {
    const server = await startTestNats();
    const pub = await connect({ servers: server.url });
    const sub = await connect({ servers: server.url });
    try {
      const plain = new PlainPublisher(pub);
      const s = sub.subscribe("ph.>");
      await sub.flush();
      // Over several slabs: a reply and up to four headers each, empty values, long ones, and
      // what the slab's path leaves to nats.js (a value outside ASCII, one with a space at an end).
      const pairsOf = (i: number): Array<[string, string]> => {
        const pairs: Array<[string, string]> = [["Troupe-Pos", String(i)]];
        if (i % 3 === 0) pairs.push(["Troupe-Count", String(i % 250)]);
        if (i % 5 === 0) pairs.push(["Troupe-Epoch", ""]);
        if (i % 7 === 0) pairs.push(["Nats-Expected-Last-Subject-Sequence", "9".repeat(i % 40)]);
        if (i === 1_001) pairs.push(["Troupe-Note", "café"]);
        if (i === 1_002) pairs.push(["Troupe-Note", "padded "]);
        return pairs;
      };
      const count = 6_000;
      const done = collect(s, 2 * count);
      for (let i = 0; i < count; i++) {
        const data = i % 11 === 0 ? new Uint8Array(0) : enc.encode(`record ${i} `.repeat(i % 9));
        const reply = `_INBOX.reply.${i}`;
        plain.publish(`ph.plain.${i}`, data, reply, pairsOf(i));
        const h = headers();
        for (const [name, value] of pairsOf(i)) h.set(name, value);
        pub.publish(`ph.own.${i}`, data, { reply, headers: h });
      }
      await pub.flush();
      const got = await done;
      const seen = (tag: string) =>
        got.filter((m) => m.subject.startsWith(`ph.${tag}.`)).map((m) => ({
          n: m.subject.slice(tag.length + 4),
          reply: m.reply,
          headers: m.headers ? [...m.headers.keys()].map((k) => [k, m.headers!.values(k)]) : [],
          data: [...m.data],
        }));
      const plains = seen("plain");
      assert.is(plains.length, count);
      assert.equal(plains, seen("own"));
      assert.equal(plains[7]!.headers, [
        ["Troupe-Pos", ["7"]],
        ["Nats-Expected-Last-Subject-Sequence", ["9999999"]],
      ]);
      assert.is(plains[7]!.reply, "_INBOX.reply.7");
    } finally {
      await pub.close();
      await sub.close();
      await server.cleanup();
    }
  });

  test("around a lost server, what arrives is what nats.js's own publish delivers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-plain-publisher-"));
    let server = await NatsServer.start({ storeDir: join(dir, "a") });
    // The subscriber reconnects quickly, the publishers only after a second, so what they send
    // once back finds the subscription on the new server.
    const slow = { maxReconnectAttempts: -1, reconnectTimeWait: 1000 };
    const pub = await connect({ servers: server.url, ...slow });
    const own = await connect({ servers: server.url, ...slow });
    const sub = await connect({
      servers: server.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 50,
    });
    try {
      const plain = new PlainPublisher(pub);
      const send = (tag: string, i: number) => {
        const subject = `pp.${tag}.${i}.${"x".repeat(1 + (i % 40))}`;
        if (tag.startsWith("plain")) plain.publish(subject, enc.encode(String(i)));
        else own.publish(subject, enc.encode(String(i)));
      };
      const got: string[] = [];
      sub.subscribe("pp.>", {
        callback: (_e, m) => void got.push(`${m.subject}=${m.string()}`),
      });
      await sub.flush();
      const down = [nextStatus(pub, "disconnect"), nextStatus(own, "disconnect")];
      await server.kill();
      await Promise.all(down);
      // Made with no server, over several slabs: nats.js drops what it holds at its next dial.
      for (let i = 0; i < 5_000; i++) send("plain-away", i), send("own-away", i);
      const back = [sub, pub, own].map((nc) => nextStatus(nc, "reconnect"));
      server = await NatsServer.start({ storeDir: join(dir, "b"), port: server.port });
      await back[0];
      await sub.flush();
      await Promise.all(back);
      for (let i = 0; i < 5_000; i++) send("plain-back", i), send("own-back", i);
      await pub.flush();
      await own.flush();
      const by = Date.now() + 10_000;
      while (got.filter((g) => g.includes("-back.")).length < 10_000 && Date.now() < by) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const of = (tag: string) =>
        got.filter((g) => g.startsWith(`pp.${tag}.`)).map((g) => g.slice(tag.length + 4));
      assert.equal(of("plain-away"), of("own-away"), "held while away: as nats.js's own");
      assert.equal(of("plain-back"), of("own-back"), "sent once back: as nats.js's own");
      assert.is(of("plain-back").length, 5_000);
      assert.equal(of("plain-back").slice(0, 2), ["0.x=0", "1.xx=1"]);
    } finally {
      await pub.close();
      await own.close();
      await sub.close();
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("what nats.js refuses or encodes itself goes through nats.js", async () => {
    const server = await startTestNats();
    const pub = await connect({ servers: server.url });
    const sub = await connect({ servers: server.url });
    try {
      const plain = new PlainPublisher(pub);
      // A subject outside ASCII: nats.js encodes it, and it arrives as it was.
      const s = sub.subscribe("pp.>");
      await sub.flush();
      const done = collect(s, 2);
      plain.publish("pp.café", enc.encode("1"));
      plain.publish("pp.plain", enc.encode("2"));
      await pub.flush();
      assert.equal((await done).map((m) => [m.subject, m.string()]), [
        ["pp.café", "1"],
        ["pp.plain", "2"],
      ]);
      // White space or nothing in a subject, a payload past the server's limit: nats.js's errors.
      for (const subject of ["pp.a b", "pp.a\tb", "pp.a\r\nPUB x 1", ""]) {
        assert.throws(() => plain.publish(subject, enc.encode("x")), /subject/i, subject);
      }
      const max = pub.info!.max_payload;
      assert.throws(() => plain.publish("pp.big", new Uint8Array(max + 1)), /max_payload/);
      await pub.close();
      assert.throws(() => plain.publish("pp.closed", enc.encode("x")), /closed/i);
    } finally {
      await pub.close().catch(() => {});
      await sub.close();
      await server.cleanup();
    }
  });
}

test.run();
