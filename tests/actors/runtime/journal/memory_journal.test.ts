import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { JournalRecord } from "../../../../actors/runtime/journal/journal.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("memory_journal");

async function collect(records: AsyncIterable<JournalRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of records) out.push(`${r.stream}@${r.pos}:${r.data[0]}`);
  return out;
}

/** What a scan of every record in append order gives (what the journal must match). */
function naive(
  log: JournalRecord[],
  keep: (r: JournalRecord) => boolean,
): string[] {
  return log.filter(keep).map((r) => `${r.stream}@${r.pos}:${r.data[0]}`);
}

test("read() and readAll() give what a scan of every record in append order gives", async () => {
  const seed = 7;
  const rng = new Prng(seed);
  const j = new MemoryJournal();
  const log: JournalRecord[] = [];
  const streams = ["a/1", "a/2", "b/1", "b/2", "c/9"];
  for (let i = 0; i < 400; i++) {
    const stream = streams[rng.int(streams.length)]!;
    const byte = i & 0xff;
    const pos = j.append(stream, rng.chance(0.5) ? Uint8Array.of(byte) : [Uint8Array.of(byte)]);
    log.push({ stream, pos, data: Uint8Array.of(byte) });
  }
  for (const stream of streams) {
    assert.is(j.lastPosition(stream), log.filter((r) => r.stream === stream).length, stream);
    for (const after of [0, 1, 17, 60, 1000]) {
      assert.equal(
        await collect(j.read(stream, after)),
        naive(log, (r) => r.stream === stream && r.pos > after),
        `seed ${seed}: read(${stream}, ${after})`,
      );
      assert.equal(
        j.recordsOf(stream, after).map((r) => `${r.stream}@${r.pos}:${r.data[0]}`),
        naive(log, (r) => r.stream === stream && r.pos > after),
      );
    }
  }
  for (let k = 0; k < 20; k++) {
    const after = new Map<string, number>();
    for (const s of streams) if (rng.chance(0.8)) after.set(s, rng.int(90));
    assert.equal(
      await collect(j.readAll(after)),
      naive(log, (r) => r.pos > (after.get(r.stream) ?? 0)),
      `seed ${seed}: readAll(${JSON.stringify([...after])})`,
    );
    assert.equal(
      await collect(j.readAll(after, Infinity)),
      naive(log, (r) => after.has(r.stream) && r.pos > after.get(r.stream)!),
      `seed ${seed}: readAll(${JSON.stringify([...after])}, Infinity)`,
    );
  }
  assert.equal(await collect(j.readAll()), naive(log, () => true));
  assert.equal(j.streams().sort(), [...streams].sort());
});

test("readAll() merges the streams' tails, passes over damaged records and reads records appended meanwhile", async () => {
  const j = new MemoryJournal();
  j.append("_edge/h1", Uint8Array.of(1)); // a stream with no snapshot, first in the journal
  for (let i = 2; i <= 9; i++) j.append(i % 2 ? "a/1" : "b/1", Uint8Array.of(i));
  j.damageRecord("b/1", 3);
  const read = j.readAll(new Map([["a/1", 2], ["b/1", 1]]))[Symbol.asyncIterator]();
  const out: string[] = [];
  for (let r = await read.next(); !r.done; r = await read.next()) {
    out.push(`${r.value.stream}@${r.value.pos}:${r.value.data[0]}`);
    if (out.length === 2) j.append("a/1", Uint8Array.of(10));
  }
  assert.equal(out, ["_edge/h1@1:1", "b/1@2:4", "a/1@3:7", "b/1@4:8", "a/1@4:9", "a/1@5:10"]);
});

test("crash() drops what was appended since the last sync, stream by stream", async () => {
  const j = new MemoryJournal();
  j.append("a/1", Uint8Array.of(1));
  j.append("b/1", Uint8Array.of(2));
  j.append("a/1", Uint8Array.of(3));
  await j.sync();
  j.append("a/1", Uint8Array.of(4));
  j.append("c/1", Uint8Array.of(5, 5));
  j.append("b/1", Uint8Array.of(6));
  assert.equal(j.stats(), { bytes: 7, records: 6, truncatedBytes: 0 });
  assert.is(j.crash(), 3);
  assert.equal(j.stats(), { bytes: 3, records: 3, truncatedBytes: 0 });
  assert.equal(j.streams(), ["a/1", "b/1"]);
  assert.is(j.lastPosition("a/1"), 2);
  assert.is(j.lastPosition("c/1"), 0);
  assert.equal(await collect(j.readAll()), ["a/1@1:1", "b/1@1:2", "a/1@2:3"]);
  // Positions continue from what survived.
  assert.is(j.append("a/1", Uint8Array.of(7)), 3);
  assert.is(j.append("c/1", Uint8Array.of(8)), 1);
  assert.equal(await collect(j.readAll(new Map([["a/1", 2]]))), [
    "b/1@1:2",
    "a/1@3:7",
    "c/1@1:8",
  ]);
  assert.equal(await collect(j.read("a/1", 1)), ["a/1@2:3", "a/1@3:7"]);
});

test("replace() gives a record new bytes and leaves the old ones as they were", async () => {
  const j = new MemoryJournal();
  j.append("a/1", Uint8Array.of(1));
  j.append("a/1", Uint8Array.of(2));
  const old = j.recordsOf("a/1")[1]!.data;
  assert.ok(j.replace("a/1", 2, Uint8Array.of(7)));
  assert.not.ok(j.replace("a/1", 3, Uint8Array.of(8)));
  assert.equal([...old], [2]);
  assert.equal(await collect(j.readAll()), ["a/1@1:1", "a/1@2:7"]);
});

test("append() keeps its own copy of bytes given whole", async () => {
  const j = new MemoryJournal();
  const bytes = Uint8Array.of(1, 2, 3);
  j.append("a/1", bytes);
  bytes[0] = 9;
  assert.equal([...j.recordsOf("a/1")[0]!.data], [1, 2, 3]);
  assert.equal(await collect(j.read("a/1")), ["a/1@1:1"]);
});

test.run();
