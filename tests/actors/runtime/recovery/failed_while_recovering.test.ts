/**
 * A host that fails while it recovers (a leased partition's lease lost, or handed off, while its
 * start folds the journal) stops its recovery at the next record: the start rejects, naming why,
 * and the rest of the journal is not read nor applied. Without the failure the same journal is
 * recovered whole.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/mod.ts";
import {
  Host,
  InProcessBus,
  type JournalRecord,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";

const test = suite("a host failed while it recovers");

/** A memory journal whose reads count their records and call `onRecord` after each. */
class CountedReads extends MemoryJournal {
  folded = 0;
  onRecord: (read: number) => void = () => {};

  override async *readAll(
    after?: ReadonlyMap<string, number>,
    unlisted = 0,
  ): AsyncIterable<JournalRecord> {
    for await (const rec of super.readAll(after, unlisted)) {
      yield rec;
      this.onRecord(++this.folded);
    }
  }
}

/** A stats host on `journal` that snapshots nothing: a start replays all of its journal. */
function host(journal: MemoryJournal, bus = new InProcessBus()): Host {
  return new Host({
    hostId: "h",
    bus,
    actors: [statsActor],
    journal,
    snapshots: new MemorySnapshotStore(),
    snapshotEveryInputs: 1_000_000,
    snapshotMinInputs: 1_000_000,
    snapshotMaxAgeMs: 1e9,
    log: () => {},
  });
}

/** A journal of 8 channels' 40 frames each, written by a live host, copied into `into`. */
async function journalOf<J extends MemoryJournal>(into: J): Promise<J> {
  const journal = new MemoryJournal();
  const bus = new InProcessBus();
  const live = host(journal, bus);
  await live.start();
  for (let c = 0; c < 8; c++) {
    const channel = `c${c}`;
    for (let f = 0; f < 40; f++) {
      const t = Float64Array.of(1_700_000_000_000_000 + f * 1e6);
      bus.publish(
        feedSubject("t", channel),
        encodeFrame({ channel, seq0: f, t, v: Float64Array.of(f + c) }, {
          id: `${channel}-${f}`,
          src: "t",
        }),
      );
    }
  }
  await bus.flush();
  await bus.flush();
  await live.stop();
  for await (const rec of journal.readAll()) into.append(rec.stream, rec.data.slice());
  return into;
}

test("the recovery stops at the record after the failure, and the start says why", async () => {
  const journal = await journalOf(new CountedReads());
  const records = journal.recordsOf("stats/c0").length * 8;
  assert.ok(records >= 320, `the instances journaled ${records} records`);
  const h = host(journal);
  journal.onRecord = (read) => {
    if (read === 10) h.fail(new Error("lease of partition 0 (epoch 3) lost"));
  };
  let err: unknown;
  await h.start().catch((e) => (err = e));
  assert.instance(err, Error);
  assert.match(String(err), /recovery stopped folding the journal/);
  assert.match(String(err), /lease of partition 0 \(epoch 3\) lost/);
  assert.is(journal.folded, 10, "no record read past the failure");
  assert.not.ok(h.ready);
  await h.stop();
});

test("a failure before the start stops it before any snapshot is restored", async () => {
  const journal = await journalOf(new CountedReads());
  const h = host(journal);
  h.fail(new Error("released while recovering"));
  let err: unknown;
  await h.start().catch((e) => (err = e));
  assert.match(String(err), /recovery stopped restoring \d+ snapshots/);
  assert.is(journal.folded, 0);
  await h.stop();
});

test("without a failure the same journal is recovered whole", async () => {
  const journal = await journalOf(new CountedReads());
  const h = host(journal);
  await h.start();
  assert.ok(h.ready);
  assert.ok(journal.folded >= 320, `read ${journal.folded}`);
  const counts = h.instances().filter((i) => i.stream.startsWith("stats/"));
  assert.is(counts.length, 8);
  for (const i of counts) assert.ok(i.pos >= 40, `${i.stream} at ${i.pos}`);
  await h.stop();
});

test.run();
