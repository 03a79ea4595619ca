/**
 * JournalScans against a real nats-server: the recoveries' reads of one JetStream journal stream
 * by several partitions' journals, asked together, made as one read, each handed its own streams'
 * records past its positions, as its own read would give them.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { JetStreamJournal } from "../../../../actors/runtime/journal/jetstream/jetstream_journal.ts";
import {
  JournalScans,
  type ScanFigures,
} from "../../../../actors/runtime/journal/jetstream/journal_scans.ts";
import type { JournalRecord } from "../../../../actors/runtime/journal/journal.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("journal_scans");
const it = haveNatsServer("journal_scans") ? test : test.skip;

const nats = natsForSuite(test, it);
let suiteNo = 0;

/** A fresh JetStream stream and subject prefix per test, so tests do not see each other. */
function names(): { stream: string; subjectPrefix: string } {
  suiteNo++;
  return { stream: `SCANS_T${suiteNo}`, subjectPrefix: `s${suiteNo}.journal` };
}

async function collect(records: AsyncIterable<JournalRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of records) {
    out.push(`${r.stream}@${r.pos}:${new TextDecoder().decode(r.data)}`);
  }
  return out;
}

/** Two journals of `n` on `scans` (their positions loaded as used). */
async function twoJournals(n: { stream: string; subjectPrefix: string }, scans: JournalScans) {
  const open = () =>
    JetStreamJournal.open(nats.nc, { ...n, scans: scans.ticket(), loadPositions: "lazy" });
  return [await open(), await open()] as const;
}

/** Appends `count` records a stream to `streams`, in turns, through a journal of its own. */
async function write(n: { stream: string; subjectPrefix: string }, streams: string[], count = 4) {
  const w = await JetStreamJournal.open(nats.nc, n);
  for (let i = 1; i <= count; i++) {
    for (const s of streams) await w.append(s, new TextEncoder().encode(`${s}#${i}`));
  }
  await w.sync();
  await w.close();
}

it("reads asked together are one read of the stream; each is given what its own read gives", async () => {
  const n = names();
  const streams = ["a/1", "a/2", "b/1", "b/2", "c/1"];
  await write(n, streams);
  const figures: ScanFigures[] = [];
  const scans = new JournalScans((f) => figures.push(f));
  const [ja, jb] = await twoJournals(n, scans);
  const plain = await JetStreamJournal.open(nats.nc, { ...n, loadPositions: "lazy" });
  const afterA = new Map([["a/1", 2], ["a/2", 0]]);
  const afterB = new Map([["b/1", 3], ["b/2", 4]]);
  const [a, b] = await Promise.all([
    collect(ja.readAll(afterA, Infinity)),
    collect(jb.readAll(afterB, Infinity)),
  ]);
  assert.equal(a, await collect(plain.readAll(afterA, Infinity)));
  assert.equal(b, await collect(plain.readAll(afterB, Infinity)));
  assert.equal(a, [
    "a/2@1:a/2#1",
    "a/2@2:a/2#2",
    "a/1@3:a/1#3",
    "a/2@3:a/2#3",
    "a/1@4:a/1#4",
    "a/2@4:a/2#4",
  ]);
  assert.equal(b, ["b/1@4:b/1#4"]);
  assert.is(scans.scans, 1);
  assert.is(scans.reads, 2);
  assert.equal(figures.map((f) => [f.reads, f.read, f.handed, f.failed]), [[2, 20, 7, undefined]]);
  for (const j of [ja, jb, plain]) await j.close();
});

it("a read asked once a scan has begun has one of its own; one of an empty stream reads nothing", async () => {
  const n = names();
  const scans = new JournalScans();
  const ja = await JetStreamJournal.open(nats.nc, { ...n, scans: scans.ticket() });
  assert.equal(await collect(ja.readAll(new Map([["a/1", 0]]), Infinity)), []);
  await write(n, ["a/1", "b/1"], 2);
  assert.equal(await collect(ja.readAll(new Map([["a/1", 1]]), Infinity)), ["a/1@2:a/1#2"]);
  const jb = await JetStreamJournal.open(nats.nc, { ...n, scans: scans.ticket() });
  assert.equal(await collect(jb.readAll(new Map([["b/1", 0]]), Infinity)), [
    "b/1@1:b/1#1",
    "b/1@2:b/1#2",
  ]);
  assert.is(scans.scans, 3);
  // A read of the whole journal, every stream, is its own read, not the scans'.
  assert.is((await collect(jb.readAll())).length, 4);
  assert.is(scans.scans, 3);
  for (const j of [ja, jb]) await j.close();
});

it("a scan waits for every journal that may read, no longer than it must", async () => {
  const n = names();
  await write(n, ["a/1", "b/1", "c/1"], 2);
  const scans = new JournalScans();
  const open = () => JetStreamJournal.open(nats.nc, { ...n, scans: scans.ticket() });
  const [ja, jb, jc] = await Promise.all([open(), open(), open()]);
  // a asks; b reads nothing (every instance of its partition dormant); c asks a moment later.
  const a = collect(ja.readAll(new Map([["a/1", 0]]), Infinity));
  assert.equal(await collect(jb.readAll(new Map(), Infinity)), []);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  const c = await collect(jc.readAll(new Map([["c/1", 1]]), Infinity));
  assert.equal(await a, ["a/1@1:a/1#1", "a/1@2:a/1#2"]);
  assert.equal(c, ["c/1@2:c/1#2"]);
  assert.is(scans.scans, 1);
  assert.ok(Date.now() - t0 < 1500, "begun once the last journal asked, not at the bound");
  // One that never asks holds a scan up to the bound (2 s), not for ever.
  const idle = scans.ticket();
  const t1 = Date.now();
  assert.equal(await collect(ja.readAll(new Map([["a/1", 1]]), Infinity)), ["a/1@2:a/1#2"]);
  assert.ok(Date.now() - t1 >= 1900, `${Date.now() - t1} ms`);
  idle.done();
  for (const j of [ja, jb, jc]) await j.close();
});

it("a read that stops early holds up none of the others, however many records it leaves", async () => {
  const n = names();
  const w = await JetStreamJournal.open(nats.nc, n);
  // More records for the one that stops than the scan hands a read before it waits for it.
  const appends: Promise<number>[] = [];
  for (let i = 0; i < 9000; i++) appends.push(w.append("a/1", new Uint8Array([i & 0xff])));
  await Promise.all(appends);
  for (let i = 1; i <= 3; i++) await w.append("b/1", new TextEncoder().encode(`b/1#${i}`));
  await w.sync();
  await w.close();
  const scans = new JournalScans();
  const [ja, jb] = await twoJournals(n, scans);
  const first = async () => {
    for await (const r of ja.readAll(new Map([["a/1", 0]]), Infinity)) return r.pos;
  };
  const [one, b] = await Promise.all([
    first(),
    collect(jb.readAll(new Map([["b/1", 1]]), Infinity)),
  ]);
  assert.is(one, 1);
  assert.equal(b, ["b/1@2:b/1#2", "b/1@3:b/1#3"]);
  assert.is(scans.scans, 1);
  for (const j of [ja, jb]) await j.close();
});

test.run();
