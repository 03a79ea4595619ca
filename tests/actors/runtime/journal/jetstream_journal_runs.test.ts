/**
 * `JetStreamJournal.appendMany` against a real nats-server: a run of records of one stream goes as
 * one message at consecutive positions, and every read, reopening, compaction and retry treats
 * the message as the records it holds.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect, headers } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  COUNT_HEADER,
  JetStreamJournal,
  POS_HEADER,
} from "../../../../actors/runtime/journal/jetstream/mod.ts";
import { packRecords } from "../../../../actors/runtime/journal/jetstream/_journal_message.ts";
import type { JournalDamage, JournalRecord } from "../../../../actors/runtime/journal/journal.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";
import { HeldPublishProxy } from "../../../_support/held_publish_proxy.ts";

const test = suite("jetstream journal runs");
const it = haveNatsServer("jetstream journal runs") ? test : test.skip;

const nats = natsForSuite(test, it);
let suiteNo = 0;

/** A fresh JetStream stream and subject prefix per test, so tests do not see each other. */
function names(): { stream: string; subjectPrefix: string } {
  suiteNo++;
  return { stream: `JOURNAL_RUN${suiteNo}`, subjectPrefix: `run${suiteNo}.journal` };
}

const encode = (s: string) => new TextEncoder().encode(s);
const run = (...values: string[]) => values.map(encode);

async function collect(records: AsyncIterable<JournalRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of records) {
    out.push(`${r.stream}:${r.pos}:${new TextDecoder().decode(r.data)}`);
  }
  return out;
}

/** How many messages the JetStream stream `name` holds, and its last sequence. */
async function messages(name: string): Promise<{ messages: number; lastSeq: number }> {
  const info = await (await jetstreamManager(nats.nc)).streams.info(name);
  return { messages: info.state.messages, lastSeq: info.state.last_seq };
}

it("appendMany() stores a run as one message at consecutive positions, and one record as append() does", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  assert.is(await j.append("a/x", encode("r1")), 1);
  assert.is(await j.appendMany("a/x", run("r2", "r3", "r4")), 2);
  assert.is(j.lastPosition("a/x"), 4);
  assert.equal(await messages(n.stream), { messages: 2, lastSeq: 2 });
  // Records in parts are joined, each on its own.
  assert.is(await j.appendMany("a/x", [[encode("r"), encode("5")], encode("r6")]), 5);
  assert.is(await j.appendMany("a/x", run("r7")), 7);
  assert.equal(await messages(n.stream), { messages: 4, lastSeq: 4 });
  const jsm = await jetstreamManager(nats.nc);
  const one = await jsm.streams.getMessage(n.stream, { seq: 4 });
  assert.is(one!.header.get(POS_HEADER), "7");
  assert.is(one!.header.has(COUNT_HEADER), false, "a run of one is today's message");
  assert.equal([...one!.data], [...encode("r7")]);
  const many = await jsm.streams.getMessage(n.stream, { seq: 2 });
  assert.is(many!.header.get(POS_HEADER), "2");
  assert.is(many!.header.get(COUNT_HEADER), "3");
  assert.equal([...many!.data], [...packRecords(run("r2", "r3", "r4"))]);
  assert.equal(await collect(j.read("a/x")), [1, 2, 3, 4, 5, 6, 7].map((p) => `a/x:${p}:r${p}`));
  assert.is(j.stats().records, 7, "stats count records, not messages");
  await j.appendMany("a/x", []).then(
    () => assert.unreachable("an empty run was accepted"),
    (err: Error) => {
      assert.instance(err, RangeError);
      assert.is(err.message, `Cannot append to journal stream "a/x": no records given`);
    },
  );
  const big = new Uint8Array(Math.floor(nats.nc.info!.max_payload / 2));
  await j.appendMany("a/x", [big, big]).then(
    () => assert.unreachable("an oversize run was accepted"),
    (err: Error) => assert.match(err.message, `run of 2 records of ${2 * big.length + 8} bytes`),
  );
  assert.is(await j.append("a/x", encode("r8")), 8);
  await j.close();
});

it("appends and runs queued together keep their order, and streams their own positions", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  const calls = [
    j.append("a/x", encode("1")),
    j.appendMany("a/x", run("2", "3")),
    j.appendMany("b/y", run("1", "2", "3")),
    j.append("a/x", encode("4")),
    j.appendMany("a/x", run("5", "6", "7")),
    j.append("b/y", encode("4")),
    j.appendMany("a/x", run("8", "9")),
  ];
  assert.equal(await Promise.all(calls), [1, 2, 1, 4, 5, 4, 8]);
  assert.equal(
    await collect(j.read("a/x")),
    [1, 2, 3, 4, 5, 6, 7, 8, 9].map((p) => `a/x:${p}:${p}`),
  );
  assert.equal(await collect(j.read("b/y")), [1, 2, 3, 4].map((p) => `b/y:${p}:${p}`));
  assert.is((await messages(n.stream)).messages, 7);
  await j.close();
});

it("read() and readAll() after a position inside a run yield exactly the records past it", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  // a/x: 1 | 2-5 | 6 | 7-9, with b/y's records between.
  await j.append("a/x", encode("1"));
  await j.appendMany("b/y", run("1", "2"));
  await j.appendMany("a/x", run("2", "3", "4", "5"));
  await j.append("a/x", encode("6"));
  await j.append("b/y", encode("3"));
  await j.appendMany("a/x", run("7", "8", "9"));
  const a = (from: number) =>
    [...Array(10 - from).keys()].map((i) => `a/x:${from + i}:${from + i}`);
  for (let after = 0; after <= 10; after++) {
    assert.equal(await collect(j.read("a/x", after)), after >= 9 ? [] : a(after + 1), `${after}`);
  }
  assert.equal(await collect(j.readAll(new Map([["a/x", 3], ["b/y", 1]]))), [
    "b/y:2:2",
    "a/x:4:4",
    "a/x:5:5",
    "a/x:6:6",
    "b/y:3:3",
    "a/x:7:7",
    "a/x:8:8",
    "a/x:9:9",
  ]);
  assert.equal(await collect(j.readAll(new Map([["a/x", 8]]), Infinity)), ["a/x:9:9"]);
  await j.close();
});

it("a reopened journal, eager or lazy, continues positions after a run", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  await j.append("a/x", encode("1"));
  await j.appendMany("a/x", run("2", "3", "4"));
  await j.appendMany("b/y", run("1", "2"));
  await j.close();
  const eager = await JetStreamJournal.open(nats.nc, n);
  assert.is(eager.lastPosition("a/x"), 4);
  assert.is(eager.lastPosition("b/y"), 2);
  assert.is(await eager.appendMany("a/x", run("5", "6")), 5);
  await eager.close();
  const lazy = await JetStreamJournal.open(nats.nc, { ...n, loadPositions: "lazy" });
  assert.is(await lazy.prepare("a/x"), 6);
  assert.is(await lazy.append("a/x", encode("7")), 7);
  assert.is(await lazy.appendMany("b/y", run("3", "4")), 3, "loaded on first append");
  assert.equal(await collect(lazy.read("a/x", 3)), [4, 5, 6, 7].map((p) => `a/x:${p}:${p}`));
  await lazy.close();
  const reader = await JetStreamJournal.open(nats.nc, { ...n, loadPositions: "lazy" });
  assert.equal(await collect(reader.read("b/y", 1)), [2, 3, 4].map((p) => `b/y:${p}:${p}`));
  await reader.close();
});

it("compact() at a position inside a run keeps the run, and the records past the position readable", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  await j.append("a/x", encode("1"));
  await j.appendMany("a/x", run("2", "3", "4"));
  await j.appendMany("a/x", run("5", "6", "7"));
  await j.append("a/x", encode("8"));
  await j.compact(new Map([["a/x", 3]]));
  assert.is((await messages(n.stream)).messages, 3, "1 purged; 2-4, 5-7 and 8 kept");
  assert.equal(await collect(j.read("a/x", 3)), [4, 5, 6, 7, 8].map((p) => `a/x:${p}:${p}`));
  await j.compact(new Map([["a/x", 5]]));
  assert.is((await messages(n.stream)).messages, 2, "5-7 holds 6 and 7");
  await j.close();
  const again = await JetStreamJournal.open(nats.nc, n);
  assert.equal(
    await collect(again.readAll(new Map([["a/x", 5]]))),
    [6, 7, 8].map((p) => `a/x:${p}:${p}`),
  );
  assert.equal(again.damage(), [], "the purge left no hole past 5");
  assert.is(await again.appendMany("a/x", run("9", "10")), 9);
  await again.compact(new Map([["a/x", 10]]));
  assert.equal(
    await collect(again.read("a/x")),
    ["a/x:9:9", "a/x:10:10"],
    "the last message stays",
  );
  await again.close();
});

it("a damaged count header or packed data is passed over and reported, naming the message", async () => {
  const n = names();
  const seen: JournalDamage[] = [];
  const j = await JetStreamJournal.open(nats.nc, { ...n, onDamage: (d) => seen.push(d) });
  await j.appendMany("a/x", run("1", "2"));
  const js = jetstream(nats.nc);
  const subject = j.subjectOf("a/x");
  const publish = (pos: string, count: string, data: Uint8Array) => {
    const h = headers();
    h.set(POS_HEADER, pos);
    h.set(COUNT_HEADER, count);
    return js.publish(subject, data, { headers: h });
  };
  await publish("3", "1", packRecords(run("3"))); // seq 2: a count of 1 is written without it
  await publish("3", "2", packRecords(run("3", "4")).subarray(0, 9)); // seq 3: cut short
  await publish("3", "2", packRecords(run("3", "4"))); // seq 4: whole
  assert.equal(await collect(j.readAll()), ["a/x:1:1", "a/x:2:2", "a/x:3:3", "a/x:4:4"]);
  assert.equal(seen.map((d) => [d.segment, d.offset, d.bytes]), [
    [`${n.stream}:${subject}`, 2, 5],
    [`${n.stream}:${subject}`, 3, 9],
  ]);
  assert.is(
    seen[0]!.reason,
    `Cannot read journal message 2 on ${subject}: header Troupe-Count must be a record ` +
      `count >= 2, got "1"`,
  );
  assert.is(
    seen[1]!.reason,
    `Cannot read journal message 3 on ${subject}: it holds 2 records (header Troupe-Count) in ` +
      `9 bytes, but record 2 of 1 bytes at byte 9 runs past the end`,
  );
  await j.close();
});

it("a run whose send's fate was unknown is stored once when the same run is appended again", async () => {
  // The run's send is held past the publish timeout, with no retry: the append fails with its
  // fate unknown, and the held send lands after. The host appends the same run again: the next
  // append finds it stored and resolves to its first position without sending it again.
  const proxy = await HeldPublishProxy.start(nats.url);
  const conn = await connect({ servers: proxy.url });
  try {
    const n = names();
    const j = await JetStreamJournal.open(conn, {
      ...n,
      publishTimeoutMs: 1000,
      publishRetries: 0,
    });
    assert.is(await j.append("a/x", encode("1")), 1);
    proxy.holdNext(j.subjectOf("a/x"), 1500);
    await j.appendMany("a/x", run("2", "3")).then(
      () => assert.unreachable("the held run was acknowledged"),
      () => {},
    );
    await new Promise((r) => setTimeout(r, 1000)); // the held send lands
    assert.is(await j.appendMany("a/x", run("2", "3")), 2);
    assert.is(await j.appendMany("a/x", run("4", "5", "6")), 4);
    assert.equal(await collect(j.read("a/x")), [1, 2, 3, 4, 5, 6].map((p) => `a/x:${p}:${p}`));
    assert.is((await messages(n.stream)).messages, 3);
    assert.is(j.stats().records, 6);
    await j.close();
  } finally {
    await conn.close();
    await proxy.close();
  }
});

it("a run sent again after its send timed out and landed late resolves to its first position once", async () => {
  const proxy = await HeldPublishProxy.start(nats.url);
  const conn = await connect({ servers: proxy.url });
  try {
    const n = names();
    const j = await JetStreamJournal.open(conn, { ...n, publishTimeoutMs: 1000 });
    assert.is(await j.append("a/x", encode("1")), 1);
    proxy.holdNext(j.subjectOf("a/x"), 1500);
    assert.is(await j.appendMany("a/x", run("2", "3", "4")), 2);
    assert.is(await j.append("a/x", encode("5")), 5);
    assert.equal(await collect(j.read("a/x")), [1, 2, 3, 4, 5].map((p) => `a/x:${p}:${p}`));
    assert.is((await messages(n.stream)).messages, 3);
    await j.close();
  } finally {
    await conn.close();
    await proxy.close();
  }
});

test.run();
