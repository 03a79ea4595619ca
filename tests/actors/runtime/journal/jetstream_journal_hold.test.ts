/**
 * A JetStream journal's compactions held back by a hold (`compactHold`): a leased host's
 * partitions' recoveries in progress, which its partitions' first compactions would slow.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { JetStreamJournal } from "../../../../actors/runtime/journal/jetstream/jetstream_journal.ts";
import type { JournalRecord } from "../../../../actors/runtime/journal/journal.ts";
import { RecoveriesInProgress } from "../../../../actors/runtime/cluster/recoveries_in_progress.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("jetstream_journal_hold");
const it = haveNatsServer("jetstream_journal_hold") ? test : test.skip;

const nats = natsForSuite(test, it);
let no = 0;

/** A journal of its own stream holding positions 1-5 of `a/s0` to `a/s3`, and its purges counted. */
async function journalWith(
  hold: RecoveriesInProgress,
  guard?: () => Error | undefined,
): Promise<{ j: JetStreamJournal; purges: () => Promise<number>; watcher: NatsConnection }> {
  no++;
  const stream = `JOURNAL_HOLD${no}`;
  const j = await JetStreamJournal.open(nats.nc, {
    stream,
    subjectPrefix: `hold${no}.journal`,
    compactHold: hold,
    ...(guard ? { guard } : {}),
  });
  for (let r = 0; r < 5; r++) {
    for (const s of STREAMS) await j.append(s, new TextEncoder().encode(`${s}-${r}`));
  }
  const watcher = await connect({ servers: nats.url });
  let purges = 0;
  watcher.subscribe(`$JS.API.STREAM.PURGE.${stream}`, { callback: () => void purges++ });
  await watcher.flush();
  return {
    j,
    watcher,
    purges: async () => {
      await watcher.flush();
      return purges;
    },
  };
}

const STREAMS = ["a/s0", "a/s1", "a/s2", "a/s3"];

async function positions(j: JetStreamJournal, stream: string): Promise<number[]> {
  const out: JournalRecord[] = [];
  for await (const r of j.read(stream)) out.push(r);
  return out.map((r) => r.pos);
}

/** Resolves once `ok()` holds, checked every 20 ms for at most 5 s. */
async function until(ok: () => Promise<boolean>, what: string): Promise<void> {
  for (let t = 0; t < 250; t++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.unreachable(`waited 5 s for ${what}`);
}

it("a compaction asked for while a recovery runs purges nothing until it ends, then up to the newest limits", async () => {
  const hold = new RecoveriesInProgress();
  const { j, purges, watcher } = await journalWith(hold);
  try {
    const recovered = hold.begin();
    assert.ok(hold.busy);
    await j.compact(new Map(STREAMS.map((s) => [s, 2])));
    await j.compact(new Map(STREAMS.map((s, i) => [s, i < 2 ? 4 : 3])));
    await new Promise((r) => setTimeout(r, 200));
    assert.is(await purges(), 0, "nothing purged while the recovery runs");
    assert.equal(await positions(j, "a/s0"), [1, 2, 3, 4, 5]);
    recovered();
    recovered(); // ended once, however often called
    assert.not.ok(hold.busy);
    await until(async () => (await purges()) === 4, "one purge a stream");
    assert.equal(await positions(j, "a/s0"), [5]);
    assert.equal(await positions(j, "a/s3"), [4, 5]);
    // Not held now: run and waited for.
    await j.compact(new Map(STREAMS.map((s) => [s, 4])));
    assert.is(await purges(), 6);
    assert.equal(await positions(j, "a/s3"), [5]);
  } finally {
    await watcher.close();
    await j.close();
  }
});

it("a held compaction waits for the recoveries in progress when it was held, not for those begun after", async () => {
  const hold = new RecoveriesInProgress();
  const { j, purges, watcher } = await journalWith(hold);
  try {
    const first = hold.begin();
    await j.compact(new Map(STREAMS.map((s) => [s, 3])));
    const second = hold.begin();
    first();
    assert.ok(hold.busy, "the second still recovers");
    await until(async () => (await purges()) === 4, "the held compaction");
    assert.equal(await positions(j, "a/s1"), [4, 5]);
    // Asked for while the second runs: held again, until it ends.
    await j.compact(new Map(STREAMS.map((s) => [s, 4])));
    await new Promise((r) => setTimeout(r, 200));
    assert.is(await purges(), 4);
    second();
    await until(async () => (await purges()) === 8, "the second held compaction");
  } finally {
    await watcher.close();
    await j.close();
  }
});

it("close() drops a held compaction and does not wait for the recovery", async () => {
  const hold = new RecoveriesInProgress();
  const { j, purges, watcher } = await journalWith(hold);
  try {
    const recovered = hold.begin();
    await j.compact(new Map(STREAMS.map((s) => [s, 4])));
    await j.close();
    recovered();
    await new Promise((r) => setTimeout(r, 200));
    assert.is(await purges(), 0);
    const again = await JetStreamJournal.open(nats.nc, {
      stream: `JOURNAL_HOLD${no}`,
      subjectPrefix: `hold${no}.journal`,
    });
    assert.equal(await positions(again, "a/s2"), [1, 2, 3, 4, 5]);
    await again.close();
  } finally {
    await watcher.close();
  }
});

it("how a held compaction failed is thrown by the next compact()", async () => {
  const hold = new RecoveriesInProgress();
  let lost = false;
  const guard = () => (lost ? new Error("the lease of partition 3 is lost") : undefined);
  const { j, purges, watcher } = await journalWith(hold, guard);
  try {
    const recovered = hold.begin();
    await j.compact(new Map(STREAMS.map((s) => [s, 4])));
    lost = true;
    recovered();
    await new Promise((r) => setTimeout(r, 200));
    await j.compact(new Map(STREAMS.map((s) => [s, 4]))).then(
      () => assert.unreachable("the held compaction's failure was not told"),
      (err: Error) => assert.match(err.message, "the lease of partition 3 is lost"),
    );
    assert.is(await purges(), 0);
  } finally {
    await watcher.close();
    await j.close();
  }
});

test.run();
