/**
 * `JetStreamJournal.compact` against a real nats-server, to a limit a few messages behind a
 * stream's last: the message holding the first record past the limit is found among the messages
 * the journal stored last (_recent_messages.ts), with no read of the server; older limits, and a
 * journal that has stored nothing yet, ask the server. Each purges the same records.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { JetStreamJournal } from "../../../../actors/runtime/journal/jetstream/mod.ts";
import { RECENT_MESSAGES } from "../../../../actors/runtime/journal/jetstream/_recent_messages.ts";
import type { JournalRecord } from "../../../../actors/runtime/journal/journal.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("jetstream journal compaction from its recent messages");
const it = haveNatsServer("jetstream journal compaction") ? test : test.skip;

const nats = natsForSuite(test, it);
let suiteNo = 0;

function names(): { stream: string; subjectPrefix: string } {
  suiteNo++;
  return { stream: `JOURNAL_RECENT${suiteNo}`, subjectPrefix: `recent${suiteNo}.journal` };
}

const encode = (s: string) => new TextEncoder().encode(s);

async function positions(records: AsyncIterable<JournalRecord>): Promise<number[]> {
  const out: number[] = [];
  for await (const r of records) out.push(r.pos);
  return out;
}

async function messagesOf(stream: string, subject: string): Promise<number> {
  const info = await (await jetstreamManager(nats.nc)).streams.info(stream, {
    subjects_filter: subject,
  });
  return info.state.subjects?.[subject] ?? 0;
}

/** The direct gets of `stream` the server is asked while `work` runs. */
async function directGets(stream: string, work: () => Promise<void>): Promise<number> {
  let gets = 0;
  const sub = nats.nc.subscribe(`$JS.API.DIRECT.GET.${stream}.>`, { callback: () => void gets++ });
  const bare = nats.nc.subscribe(`$JS.API.DIRECT.GET.${stream}`, { callback: () => void gets++ });
  await nats.nc.flush();
  await work();
  await nats.nc.flush();
  sub.unsubscribe();
  bare.unsubscribe();
  return gets;
}

/**
 * `a/x` gets records 1 to 3 one a message, then 4 to 6 as a run, then 7 and 8, with `b/y`'s
 * messages between each, so that no two of a/x's messages have consecutive sequences.
 */
async function interleaved(j: JetStreamJournal): Promise<void> {
  let b = 0;
  const other = () => j.append("b/y", encode(`b${++b}`));
  for (const p of [1, 2, 3]) {
    await j.append("a/x", encode(`a${p}`));
    await other();
  }
  await j.appendMany("a/x", [encode("a4"), encode("a5"), encode("a6")]);
  await other();
  for (const p of [7, 8]) {
    await j.append("a/x", encode(`a${p}`));
    await other();
  }
}

it("a limit among the last messages stored is purged to with no read, a run holding it kept", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  await interleaved(j);
  const subject = `${n.subjectPrefix}.a.x`;
  // a/x's messages: 1, 2, 3, 4-6, 7, 8; the last four stored are 3, 4-6, 7 and 8.
  assert.ok(RECENT_MESSAGES >= 4);
  const gets = await directGets(n.stream, () => j.compact(new Map([["a/x", 4]])));
  assert.is(gets, 0, "found among the messages stored last");
  assert.equal(await positions(j.read("a/x", 4)), [5, 6, 7, 8]);
  assert.is(await messagesOf(n.stream, subject), 3, "1, 2, 3 purged; the run 4-6 holds 5 and 6");
  const gets2 = await directGets(n.stream, () => j.compact(new Map([["a/x", 6]])));
  assert.is(gets2, 0);
  assert.is(await messagesOf(n.stream, subject), 2, "7 and 8 kept");
  assert.equal(await positions(j.read("a/x", 6)), [7, 8]);
  assert.equal(await positions(j.read("b/y")), [1, 2, 3, 4, 5, 6], "b/y untouched");
  await j.close();
});

it("a limit older than the messages kept is found on the server, and purges the same", async () => {
  const n = names();
  const j = await JetStreamJournal.open(nats.nc, n);
  await interleaved(j);
  for (let p = 9; p <= 12; p++) await j.append("a/x", encode(`a${p}`));
  const gets = await directGets(n.stream, () => j.compact(new Map([["a/x", 2]])));
  assert.ok(gets > 0, `asked the server (${gets} gets)`);
  assert.equal(await positions(j.read("a/x", 2)), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.is(await messagesOf(n.stream, `${n.subjectPrefix}.a.x`), 8);
  await j.close();
});

it("a journal reopened, and one whose positions were moved on, ask the server", async () => {
  const n = names();
  const first = await JetStreamJournal.open(nats.nc, n);
  await interleaved(first);
  await first.close();
  const j = await JetStreamJournal.open(nats.nc, { ...n, loadPositions: "lazy" });
  assert.is(await j.prepare("a/x"), 8);
  const gets = await directGets(n.stream, () => j.compact(new Map([["a/x", 6]])));
  assert.ok(gets > 0, "nothing stored by this journal yet");
  assert.equal(await positions(j.read("a/x", 6)), [7, 8]);
  assert.is(await j.append("a/x", encode("a9")), 9);
  j.advance("a/x", 20);
  assert.is(await j.append("a/x", encode("a21")), 21);
  const moved = await directGets(n.stream, () => j.compact(new Map([["a/x", 8]])));
  assert.ok(moved > 0, "the advance left no run of stored messages to trust");
  assert.equal(await positions(j.read("a/x", 8)), [9, 21]);
  await j.close();
});

test.run();
