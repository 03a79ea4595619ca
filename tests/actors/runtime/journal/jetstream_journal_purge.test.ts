/**
 * A JetStream journal read whole (recovery's `readAll`) while another host compacts its own
 * streams, against a real nats-server: nats-server 2.9 moves every consumer whose filter covers a
 * purged subject to the purge's sequence, which carried the read past records of the streams it
 * was for (a takeover then found holes and a lost tail, and rebuilt from the feed what its journal
 * held). The streams named in `after` come out whole and in order, with no damage reported.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { JetStreamJournal, type JournalDamage } from "../../../../actors/runtime/mod.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("jetstream journal read under another writer's compaction");
const it = haveNatsServer("jetstream journal purge") ? test : test.skip;

const nats = natsForSuite(test, it);

/** Records large enough that the read cannot hold the whole stream when the purge lands. */
const RECORD_BYTES = 64 * 1024;

function record(stream: string, i: number): Uint8Array {
  const data = new Uint8Array(RECORD_BYTES);
  data.set(new TextEncoder().encode(`${stream} ${i}`));
  return data;
}

function label(data: Uint8Array): string {
  return new TextDecoder().decode(data.subarray(0, data.indexOf(0)));
}

/**
 * Appends `mine` records to stats/a (the reader's) interleaved with stats/x (the other writer's),
 * then `theirs - mine` more to stats/x; reads stats/a whole, the other writer compacting stats/x
 * up to `compactTo` after the read's fifth record (of either stream).
 */
async function readWhileCompacted(
  names: { stream: string; subjectPrefix: string },
  counts: { mine: number; theirs: number; compactTo: number },
): Promise<{ read: string[]; damage: JournalDamage[] }> {
  const damage: JournalDamage[] = [];
  const other = await JetStreamJournal.open(nats.nc, names);
  const mine = await JetStreamJournal.open(nats.nc, { ...names, onDamage: (d) => damage.push(d) });
  for (let i = 1; i <= counts.theirs; i++) {
    if (i <= counts.mine) await mine.append("stats/a", record("a", i));
    await other.append("stats/x", record("x", i));
  }
  const read: string[] = [];
  let records = 0;
  for await (const rec of mine.readAll(new Map([["stats/a", 0]]))) {
    if (rec.stream === "stats/a") read.push(`${rec.pos}:${label(rec.data)}`);
    if (++records === 5) await other.compact(new Map([["stats/x", counts.compactTo]]));
  }
  await mine.close();
  await other.close();
  return { read, damage };
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}:a ${i + 1}`);

it("readAll() yields every record of its streams while another writer purges its own (no hole)", async () => {
  const { read, damage } = await readWhileCompacted(
    { stream: "JOURNAL_PURGE1", subjectPrefix: "purge1.journal" },
    { mine: 160, theirs: 160, compactTo: 150 },
  );
  assert.equal(read, expected(160));
  assert.equal(damage, []);
});

it("readAll() yields the tail of its streams when a purge carries the read past all of it", async () => {
  const { read, damage } = await readWhileCompacted(
    { stream: "JOURNAL_PURGE2", subjectPrefix: "purge2.journal" },
    { mine: 60, theirs: 200, compactTo: 190 },
  );
  assert.equal(read, expected(60));
  assert.equal(damage, []);
});

test.run();
