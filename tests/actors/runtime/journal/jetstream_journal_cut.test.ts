import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { JetStreamJournal } from "../../../../actors/runtime/journal/jetstream/jetstream_journal.ts";
import { CUT_STEP_MESSAGES } from "../../../../actors/runtime/journal/jetstream/stream_cut.ts";
import type { JournalRecord } from "../../../../actors/runtime/journal/journal.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";
import { HeldPublishProxy } from "../../../_support/held_publish_proxy.ts";

const test = suite("jetstream_journal_cut");
const it = haveNatsServer("jetstream_journal_cut") ? test : test.skip;

const nats = natsForSuite(test, it);
let suiteNo = 0;

/** A fresh JetStream stream and subject prefix per test, written by one journal at a time. */
function names(): { stream: string; subjectPrefix: string; soleWriter: true } {
  suiteNo++;
  return {
    stream: `JOURNAL_CUT${suiteNo}`,
    subjectPrefix: `c${suiteNo}.journal`,
    soleWriter: true,
  };
}

function payload(n: number): Uint8Array {
  return new TextEncoder().encode(`record-${n}`);
}

async function positions(records: AsyncIterable<JournalRecord>): Promise<number[]> {
  const out: number[] = [];
  for await (const r of records) out.push(r.pos);
  return out;
}

async function streamState(stream: string): Promise<{ first: number; messages: number }> {
  const { state } = await (await jetstreamManager(nats.nc)).streams.info(stream);
  return { first: state.first_seq, messages: state.messages };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

it("a sole writer's compaction purges the whole stream below the first record a stream needs", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  // a1 b1 a2 b2 ... a5 b5 a6 a7 a8 a9 a10: a/x's 7th record is the stream's 12th message.
  for (let i = 1; i <= 10; i++) {
    await j.append("a/x", payload(i));
    if (i <= 5) await j.append("b/y", payload(100 + i));
  }
  await j.compact(new Map([["a/x", 6], ["b/y", 5]]));
  assert.equal(await streamState(n.stream), { first: 12, messages: 4 });
  assert.equal(await positions(j.read("a/x")), [7, 8, 9, 10]);
  // b/y's records all went (its snapshot covers them), its position with the journal.
  assert.equal(await positions(j.read("b/y")), []);
  assert.is(j.lastPosition("b/y"), 5);
  assert.is(await j.append("b/y", payload(106)), 6);
  assert.equal(await positions(j.read("b/y")), [6]);
  await j.close();
  const again = await JetStreamJournal.open(nats.nc, n);
  assert.is(again.lastPosition("b/y"), 6);
  assert.is(again.lastPosition("a/x"), 10);
  await again.close();
});

it("a cut keeps the newest message even when every stream's snapshot covers all of it", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  for (let i = 1; i <= 4; i++) await j.append("a/x", payload(i));
  for (let i = 1; i <= 3; i++) await j.append("b/y", payload(i));
  await j.compact(new Map([["a/x", 4], ["b/y", 3]]));
  assert.equal(await streamState(n.stream), { first: 7, messages: 1 });
  // The journal goes on from the positions it had, its subjects emptied or not.
  assert.is(await j.append("a/x", payload(5)), 5);
  assert.is(await j.append("b/y", payload(4)), 4);
  await j.close();
  // A next holder finds a/x's position in its snapshot (recovery's `advance`) and b/y's here.
  const again = await JetStreamJournal.open(nats.nc, n);
  assert.is(again.lastPosition("b/y"), 4);
  assert.equal(await positions(again.read("a/x")), [5]);
  assert.equal(again.streams().sort(), ["a/x", "b/y"]);
  await again.close();
});

it("a journal that loaded the stream cuts past the records it found there once snapshots cover them", async () => {
  const n = names();
  const first = await JetStreamJournal.open(nats.nc, n);
  for (let i = 1; i <= 10; i++) {
    await first.append("a/x", payload(i));
    await first.append("b/y", payload(i));
  }
  await first.close();
  const j = await JetStreamJournal.open(nats.nc, n);
  await j.append("c/z", payload(1));
  // a/x's records past 4 and b/y's past 8 were stored before this journal loaded the stream: where
  // they begin is not known to it, and nothing is cut.
  await j.compact(new Map([["a/x", 4], ["b/y", 8]]));
  assert.equal(await streamState(n.stream), { first: 1, messages: 21 });
  await j.compact(new Map([["a/x", 10], ["b/y", 10]]));
  assert.equal(await streamState(n.stream), { first: 21, messages: 1 });
  assert.equal(await positions(j.read("c/z")), [1]);
  assert.is(await j.append("a/x", payload(11)), 11);
  await j.close();
});

it("a cut of many messages is made a step of CUT_STEP_MESSAGES at a time", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  const total = 20 * Math.ceil((2 * CUT_STEP_MESSAGES + 100) / 20);
  await Promise.all(
    Array.from({ length: 20 }, async (_, s) => {
      for (let i = s; i < total; i += 20) await j.append(`a/s${s}`, payload(i));
    }),
  );
  await j.append("b/y", payload(0));
  const watcher = await connect({ servers: nats.url });
  // Each purge request's body (its `seq`), so that a count other than three says where it cut.
  const purges: string[] = [];
  watcher.subscribe(`$JS.API.STREAM.PURGE.${n.stream}`, {
    callback: (_, m) => void purges.push(new TextDecoder().decode(m.data)),
  });
  await watcher.flush();
  try {
    const upTo = new Map(Array.from({ length: 20 }, (_, s) => [`a/s${s}`, total / 20]));
    await j.compact(upTo);
    await watcher.flush();
    const state = await streamState(n.stream);
    assert.is(
      purges.length,
      3,
      `purges of ${total + 1} messages: ${purges.join(", ")}; ` +
        `the stream then ${JSON.stringify(state)}`,
    );
    assert.equal(state, { first: total + 1, messages: 1 });
  } finally {
    await watcher.close();
    await j.close();
  }
});

it("an append sent before a cut that took its subject's last message is stored as the subject's first", async () => {
  const proxy = await HeldPublishProxy.start(nats.url);
  const conn = await connect({ servers: proxy.url });
  try {
    const n = names();
    const j = await JetStreamJournal.open(conn, n);
    for (let i = 1; i <= 3; i++) await j.append("a/x", payload(i));
    await j.append("b/y", payload(1));
    // The next a/x publish reaches the server after the cut, naming a/x's purged last message.
    proxy.holdNext(j.subjectOf("a/x"), 600);
    const appending = j.append("a/x", payload(4));
    await j.compact(new Map([["a/x", 3]]));
    assert.equal(await streamState(n.stream), { first: 4, messages: 1 });
    assert.is(await appending, 4);
    assert.equal(await positions(j.read("a/x")), [4]);
    assert.is(await j.append("a/x", payload(5)), 5);
    await j.close();
  } finally {
    await conn.close();
    await proxy.close();
  }
});

it("appends in flight while cuts are made lose no record past any stream's snapshot", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  const prng = new Prng(7);
  const streams = Array.from({ length: 60 }, (_, i) => `k/s${i}`);
  const snapshotAt = new Map<string, number>();
  let appending = true;
  const writers = streams.map(async (s) => {
    for (let i = 0; appending || i < 3; i++) {
      await j.append(s, payload(i));
      if (prng.next() < 0.05) await new Promise((r) => setTimeout(r, 1));
    }
  });
  for (let round = 0; round < 12; round++) {
    await new Promise((r) => setTimeout(r, 20));
    // A snapshot covers what was acknowledged: every stream's in even rounds (then only the
    // appends in flight hold the cut back), half of them in odd ones.
    for (const s of streams) {
      if (round % 2 === 0 || prng.next() < 0.5) snapshotAt.set(s, j.lastPosition(s));
    }
    await j.compact(snapshotAt);
  }
  appending = false;
  await Promise.all(writers);
  const before = (await streamState(n.stream)).first;
  assert.ok(before > 1, `cut below ${before}`);
  for (const s of streams) {
    const got = await positions(j.read(s, snapshotAt.get(s) ?? 0));
    assert.equal(got, range((snapshotAt.get(s) ?? 0) + 1, j.lastPosition(s)), s);
  }
  await j.close();
});

test.run();
