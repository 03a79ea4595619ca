import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { JetStreamJournal } from "../../../../actors/runtime/journal/jetstream/jetstream_journal.ts";
import {
  JournalConflictError,
  type JournalRecord,
} from "../../../../actors/runtime/journal/journal.ts";
import { ProtocolError } from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { haveNatsServer, natsForSuite, tempDir } from "../../../_support/nats.ts";
import { NatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import { HeldPublishProxy } from "../../../_support/held_publish_proxy.ts";

const test = suite("jetstream_journal");
const it = haveNatsServer("jetstream_journal") ? test : test.skip;

const nats = natsForSuite(test, it);
let suiteNo = 0;

/** A fresh JetStream stream and subject prefix per test, so tests do not see each other. */
function names(): { stream: string; subjectPrefix: string } {
  suiteNo++;
  return { stream: `JOURNAL_T${suiteNo}`, subjectPrefix: `t${suiteNo}.journal` };
}

function payload(n: number): Uint8Array {
  return new TextEncoder().encode(`record-${n}`);
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

async function collect(records: AsyncIterable<JournalRecord>): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

it("open() creates the stream with file storage and appends get consecutive positions per stream", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  const info = await (await jetstreamManager(nats.nc)).streams.info(n.stream);
  assert.is(info.config.storage, StorageType.File);
  assert.equal(info.config.subjects, [`${n.subjectPrefix}.>`]);
  assert.is(j.subjectOf("stats/BTC-USD"), `${n.subjectPrefix}.stats.BTC-USD`);
  assert.is(j.streamOf(`${n.subjectPrefix}.stats.BTC-USD`), "stats/BTC-USD");
  const got: string[] = [];
  for (let i = 0; i < 12; i++) {
    const stream = i % 3 === 0 ? "stats/ETH-USD" : "stats/BTC-USD";
    got.push(`${stream}:${await j.append(stream, payload(i))}`);
  }
  assert.equal(
    got.filter((g) => g.startsWith("stats/ETH")),
    [1, 2, 3, 4].map((p) => `stats/ETH-USD:${p}`),
  );
  assert.is(j.lastPosition("stats/BTC-USD"), 8);
  assert.is(j.lastPosition("stats/none"), 0);
  assert.equal(j.streams().sort(), ["stats/BTC-USD", "stats/ETH-USD"]);
  const all = await collect(j.readAll());
  assert.equal(all.map((r) => text(r.data)), [...Array(12).keys()].map((i) => `record-${i}`));
  await j.sync();
  assert.is(j.stats().records, 12);
  await j.close();
});

it("concurrent appends to one stream keep call order; different streams are pipelined", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  const calls: Promise<number>[] = [];
  for (let i = 0; i < 60; i++) calls.push(j.append(`s/k${i % 4}`, payload(i)));
  const positions = await Promise.all(calls);
  assert.equal(positions, [...Array(60).keys()].map((i) => Math.floor(i / 4) + 1));
  for (let k = 0; k < 4; k++) {
    const records = await collect(j.read(`s/k${k}`));
    assert.equal(records.map((r) => r.pos), [...Array(15).keys()].map((i) => i + 1));
    assert.equal(
      records.map((r) => text(r.data)),
      [...Array(15).keys()].map((i) => `record-${i * 4 + k}`),
    );
  }
  await j.close();
});

it("a reopened journal knows every stream's last position, at open or lazily via prepare()", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  for (let i = 0; i < 7; i++) await j.append("a/x", payload(i));
  await j.append("b/y", payload(100));
  await j.close();
  const eager = await JetStreamJournal.open(nats.nc, n);
  assert.is(eager.lastPosition("a/x"), 7);
  assert.is(eager.lastPosition("b/y"), 1);
  assert.is(await eager.append("a/x", payload(7)), 8);
  await eager.close();
  const lazy = await JetStreamJournal.open(nats.nc, { ...n, loadPositions: "lazy" });
  assert.is(lazy.lastPosition("a/x"), 0);
  assert.is(await lazy.prepare("a/x"), 8);
  assert.is(lazy.lastPosition("a/x"), 8);
  assert.is(await lazy.append("b/y", payload(101)), 2); // loaded on first append
  await lazy.close();
});

it("a stream made with another description is refused as the journal, naming both", async () => {
  const n = names();
  const made = await JetStreamJournal.open(nats.nc, { ...n, description: "partition 3 of 4" });
  await made.append("a/x", payload(1));
  await made.close();
  const again = await JetStreamJournal.open(nats.nc, { ...n, description: "partition 3 of 4" });
  assert.is(again.lastPosition("a/x"), 1);
  await again.close();
  try {
    await JetStreamJournal.open(nats.nc, { ...n, description: "partition 3 of 8" });
    assert.unreachable("another description must be refused");
  } catch (err) {
    assert.match(
      (err as Error).message,
      `Cannot use JetStream stream ${n.stream} as partition 3 of 8: it was made as ` +
        `"partition 3 of 4"`,
    );
  }
});

it("read() and readAll() return the records after the given positions, in order", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  const prng = new Prng(5);
  const sent: { stream: string; pos: number; data: string }[] = [];
  for (let i = 0; i < 150; i++) {
    const stream = `s/k${prng.int(3)}`;
    sent.push({ stream, pos: await j.append(stream, payload(i)), data: `record-${i}` });
  }
  for (const stream of ["s/k0", "s/k1", "s/k2"]) {
    const mine = sent.filter((s) => s.stream === stream);
    for (const after of [0, 1, 17, mine.length - 1, mine.length, mine.length + 5]) {
      const got = await collect(j.read(stream, after));
      assert.equal(
        got.map((r) => ({ stream: r.stream, pos: r.pos, data: text(r.data) })),
        mine.filter((s) => s.pos > after),
        `${stream} after ${after}`,
      );
    }
  }
  const after = new Map([["s/k0", 10], ["s/k1", 1000]]);
  const got = await collect(j.readAll(after));
  assert.equal(
    got.map((r) => ({ stream: r.stream, pos: r.pos, data: text(r.data) })),
    sent.filter((s) => s.pos > (after.get(s.stream) ?? 0)),
  );
  const listed = await collect(j.readAll(after, Infinity));
  assert.equal(
    listed.map((r) => ({ stream: r.stream, pos: r.pos, data: text(r.data) })),
    sent.filter((s) => after.has(s.stream) && s.pos > after.get(s.stream)!),
    "the streams `after` names alone",
  );
  assert.equal(await collect(j.readAll(new Map(), Infinity)), [], "no stream named: none read");
  assert.equal(await collect(j.read("s/none")), []);
  await j.close();
});

it("a second writer of the same stream is refused with an error naming the stream", async () => {
  const n = names();
  const first = await JetStreamJournal.open(nats.nc, n);
  const second = await JetStreamJournal.open(nats.nc, n);
  assert.is(await first.append("stats/BTC-USD", payload(0)), 1);
  assert.is(await second.append("stats/ETH-USD", payload(1)), 1); // another stream is fine
  try {
    await second.append("stats/BTC-USD", payload(2));
    assert.unreachable("the second writer's append was stored");
  } catch (err) {
    assert.instance(err, JournalConflictError);
    assert.is((err as JournalConflictError).stream, "stats/BTC-USD");
    assert.match(
      (err as Error).message,
      /journal stream "stats\/BTC-USD": another writer appended/,
    );
  }
  // The stream stays refused until it is reloaded; then the new owner carries on.
  try {
    await second.append("stats/BTC-USD", payload(3));
    assert.unreachable("a refused stream took an append");
  } catch (err) {
    assert.match((err as Error).message, /call prepare\(\)/);
  }
  await second.sync().then(() => assert.unreachable("sync() hid a failed append"), () => {});
  assert.is(await second.prepare("stats/BTC-USD"), 1);
  assert.is(await second.append("stats/BTC-USD", payload(4)), 2);
  await first.append("stats/BTC-USD", payload(5)).then(
    () => assert.unreachable("the old owner's append was stored"),
    (err) => assert.instance(err, JournalConflictError),
  );
  const records = await collect(second.read("stats/BTC-USD"));
  assert.equal(records.map((r) => text(r.data)), ["record-0", "record-4"]);
  await first.close();
  await second.close();
});

it("an append whose send timed out, found missing, sent again and refused because the first send landed late, resolves to its position once", async () => {
  // The first send is held past the publish timeout: the look at the subject's last message
  // (answered at once) finds it missing, the send is repeated, and the server gets the first
  // send just before the repeat, which it refuses (wrong last sequence) as another writer's.
  const proxy = await HeldPublishProxy.start(nats.url);
  const conn = await connect({ servers: proxy.url });
  try {
    const n = names();
    const j = await JetStreamJournal.open(conn, { ...n, publishTimeoutMs: 2000 });
    assert.is(await j.append("stats/BTC-USD", payload(0)), 1);
    proxy.holdNext(j.subjectOf("stats/BTC-USD"), 3000);
    assert.is(await j.append("stats/BTC-USD", payload(1)), 2);
    assert.is(await j.append("stats/BTC-USD", payload(2)), 3);
    const records = await collect(j.read("stats/BTC-USD"));
    assert.equal(records.map((r) => `${r.pos}:${text(r.data)}`), [
      "1:record-0",
      "2:record-1",
      "3:record-2",
    ]);
    await j.close();
  } finally {
    await conn.close();
    await proxy.close();
  }
});

it("compact() purges records up to a position but keeps each stream's last, so positions continue", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  for (let i = 0; i < 20; i++) await j.append(i < 10 ? "a/x" : "b/y", payload(i));
  await j.compact(new Map([["a/x", 10], ["b/y", 6]]));
  assert.equal((await collect(j.read("a/x"))).map((r) => r.pos), [10]);
  assert.equal((await collect(j.read("b/y"))).map((r) => r.pos), [7, 8, 9, 10]);
  await j.close();
  const again = await JetStreamJournal.open(nats.nc, n);
  assert.is(again.lastPosition("a/x"), 10);
  assert.is(await again.append("a/x", payload(20)), 11);
  const all = await collect(again.readAll(new Map([["b/y", 8]])));
  assert.equal(all.map((r) => `${r.stream}:${r.pos}`), ["a/x:10", "b/y:9", "b/y:10", "a/x:11"]);
  await again.close();
});

it("compact() leaves a stream compacted to its limit already alone, and purges one whose limit rose", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  const streams = Array.from({ length: 10 }, (_, i) => `a/s${i}`);
  for (let r = 0; r < 6; r++) for (const s of streams) await j.append(s, payload(r));
  // The compaction's requests as the server takes them, seen by a second connection.
  const watcher = await connect({ servers: nats.url });
  const seen = { purges: 0, gets: 0 };
  watcher.subscribe(`$JS.API.STREAM.PURGE.${n.stream}`, { callback: () => void seen.purges++ });
  watcher.subscribe(`$JS.API.DIRECT.GET.${n.stream}`, { callback: () => void seen.gets++ });
  await watcher.flush();
  const counted = async (upTo: Map<string, number>) => {
    seen.purges = seen.gets = 0;
    await j.compact(upTo);
    await watcher.flush();
    return { ...seen };
  };
  try {
    const first = await counted(new Map(streams.map((s) => [s, 3])));
    assert.is(first.purges, 10, "each stream purged once");
    assert.ok(first.gets > 0, "the message past each limit searched for");
    assert.equal(await counted(new Map(streams.map((s) => [s, 3]))), { purges: 0, gets: 0 });
    const raised = new Map(streams.map((s, i) => [s, i < 3 ? 4 : 3]));
    assert.is((await counted(raised)).purges, 3, "only the streams whose limit rose");
    for (const s of streams.slice(0, 3)) {
      assert.equal((await collect(j.read(s))).map((r) => r.pos), [5, 6]);
    }
    assert.equal((await collect(j.read("a/s9"))).map((r) => r.pos), [4, 5, 6]);
  } finally {
    await watcher.close();
    await j.close();
  }
});

it("close() ends a compaction in progress once the streams it is on are done, and says the journal does not compact at a stop", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  assert.is(j.compactsAtStop, false);
  const streams = Array.from({ length: 20 }, (_, i) => `a/s${i}`);
  for (let r = 0; r < 3; r++) for (const s of streams) await j.append(s, payload(r));
  const watcher = await connect({ servers: nats.url });
  let purges = 0;
  watcher.subscribe(`$JS.API.STREAM.PURGE.${n.stream}`, { callback: () => void purges++ });
  await watcher.flush();
  try {
    const compacting = j.compact(new Map(streams.map((s) => [s, 3])));
    await j.close();
    await compacting;
    await watcher.flush();
    // Four streams at once: the first four begun as the compaction began, and no more.
    assert.is(purges, 4);
  } finally {
    await watcher.close();
  }
});

it("compact() keeps a stream's only record when it is the JetStream stream's first message", async () => {
  // nats-server reads a filtered purge's sequence 1 as no bound at all: asked to purge below the
  // stream's first message, it would purge the subject whole, its last message with it.
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  assert.is(await j.append("_edge/p", payload(0)), 1);
  await j.append("a/x", payload(1));
  await j.compact(new Map([["_edge/p", 1], ["a/x", 1]]));
  assert.equal((await collect(j.read("_edge/p"))).map((r) => r.pos), [1]);
  assert.is(await j.append("_edge/p", payload(2)), 2);
  await j.close();
  const again = await JetStreamJournal.open(nats.nc, n);
  assert.is(again.lastPosition("_edge/p"), 2);
  assert.equal((await collect(again.read("a/x"))).map((r) => r.pos), [1]);
  await again.close();
});

it("compact() from a stale view purges nothing another writer appended since, and a guard refuses it", async () => {
  const n = names();
  const old = await JetStreamJournal.open(nats.nc, n);
  for (let i = 0; i < 5; i++) await old.append("a/x", payload(i));
  // The partition moved on: its new owner appended 6 to 8, which the old writer has not seen.
  const next = await JetStreamJournal.open(nats.nc, n);
  for (let i = 5; i < 8; i++) await next.append("a/x", payload(i));
  // A compaction the old writer had queued (a count to keep from its view would take 4 to 6).
  await old.compact(new Map([["a/x", 3]]));
  const fresh = await JetStreamJournal.open(nats.nc, n);
  assert.equal((await collect(fresh.read("a/x"))).map((r) => r.pos), [4, 5, 6, 7, 8]);
  let lost = false;
  const fenced = await JetStreamJournal.open(nats.nc, {
    ...n,
    guard: () => (lost ? new Error("the lease is lost") : undefined),
    epoch: 7,
  });
  assert.is(await fenced.append("a/x", payload(8)), 9);
  lost = true;
  await fenced.append("a/x", payload(9)).then(
    () => assert.unreachable("appended after the guard refused"),
    (err: Error) => assert.match(err.message, "the lease is lost"),
  );
  await fenced.compact(new Map([["a/x", 8]])).catch(() => {});
  const after = await JetStreamJournal.open(nats.nc, n);
  assert.equal((await collect(after.read("a/x"))).map((r) => r.pos), [4, 5, 6, 7, 8, 9]);
  await after.close();
  const m = await (await jetstreamManager(nats.nc)).streams.getMessage(n.stream, {
    last_by_subj: `${n.subjectPrefix}.a.x`,
  });
  assert.is(m?.header?.get("Troupe-Epoch"), "7");
  for (const j of [old, next, fresh, fenced]) await j.close();
});

it("append() rejects a stream token that is not a valid name and a record over the server's max payload", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  await j.append("stats/BTC.USD", payload(0)).then(
    () => assert.unreachable("a dotted token was accepted"),
    (err) => {
      assert.instance(err, ProtocolError);
      assert.match((err as Error).message, /journal stream token name "BTC.USD"/);
    },
  );
  const big = new Uint8Array(nats.nc.info!.max_payload);
  await j.append("stats/BTC-USD", big).then(
    () => assert.unreachable("an oversize record was accepted"),
    (err) => assert.match((err as Error).message, new RegExp(`record of ${big.length} bytes`)),
  );
  assert.is(await j.append("stats/BTC-USD", payload(1)), 1);
  await j.close();
});

it("appends carry on across a nats-server restart and every acknowledged record survives it", async () => {
  const dir = tempDir();
  let own = await NatsServer.start({ storeDir: dir.path });
  const conn = await connect({
    servers: own.url,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  try {
    const j = await JetStreamJournal.open(conn, { publishTimeoutMs: 1000, publishRetries: 10 });
    const acked = new Map<number, number>(); // payload number -> position
    let n = 0;
    const writer = (async () => {
      while (n < 400) {
        const i = n++;
        try {
          acked.set(i, await j.append("stats/BTC-USD", payload(i)));
        } catch (err) {
          // A refused stream is reloaded and the writer carries on, as the host would.
          await j.prepare("stats/BTC-USD").catch(() => {});
          void err;
        }
      }
    })();
    while (n < 100) await new Promise((r) => setTimeout(r, 5));
    own = await own.restart();
    await writer;
    const records = await collect(j.read("stats/BTC-USD"));
    assert.equal(records.map((r) => r.pos), records.map((_, i) => i + 1));
    const stored = new Map(records.map((r) => [text(r.data), r.pos]));
    for (const [i, pos] of acked) assert.is(stored.get(`record-${i}`), pos, `record-${i}`);
    assert.ok(acked.size >= 300, `${acked.size} of 400 appends acknowledged`);
    await j.close();
  } finally {
    await conn.close();
    await own.stop();
    dir.remove();
  }
});

test.run();
