/**
 * The file journal against damage that is not a torn tail: bytes damaged in the middle of a
 * segment, followed by intact records. Every intact record is kept and read, the damaged range is
 * reported with its file and offset, nothing is cut off the file, and positions continue.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileJournal, type TruncateInfo } from "../../../../actors/runtime/journal/file_journal.ts";
import type { JournalDamage, JournalRecord } from "../../../../actors/runtime/journal/journal.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("file_journal_damage");

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

async function collect(records: AsyncIterable<JournalRecord>): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const r of records) out.push({ ...r, data: r.data.slice() });
  return out;
}

/** Writes `n` records over three streams; record i's data is `rec-i` and some filler. */
async function writeJournal(path: string, n: number): Promise<void> {
  const j = await FileJournal.open(path, { fsync: "never" });
  for (let i = 0; i < n; i++) j.append(`s${i % 3}`, utf8.encode(`rec-${i}-${"y".repeat(40)}`));
  await j.close();
}

function onlySegment(dir: string): string {
  const segs = readdirSync(dir).filter((f) => f.endsWith(".seg"));
  assert.is(segs.length, 1);
  return join(dir, segs[0]!);
}

function open(path: string, damage: JournalDamage[], torn: TruncateInfo[] = []) {
  return FileJournal.open(path, {
    fsync: "never",
    onDamage: (d) => damage.push(d),
    onTruncate: (t) => torn.push(t),
  });
}

test("16 bytes damaged halfway into a segment: every record after them is kept, the range is reported and nothing is cut", async () => {
  const seed = 13;
  const rng = new Prng(seed);
  const dir = tempDir();
  try {
    await writeJournal(dir.path, 300);
    const path = onlySegment(dir.path);
    const bytes = readFileSync(path);
    const size = bytes.length;
    const at = Math.floor(size / 2);
    for (let i = 0; i < 16; i++) bytes[at + i] = rng.int(256);
    writeFileSync(path, bytes);
    const damage: JournalDamage[] = [], torn: TruncateInfo[] = [];
    const j = await open(dir.path, damage, torn);
    assert.is(torn.length, 0, `seed ${seed}: nothing is a torn tail`);
    assert.is(damage.length, 1, `seed ${seed}`);
    assert.is(damage[0]!.segment, path);
    assert.ok(damage[0]!.offset <= at && damage[0]!.offset + damage[0]!.bytes > at + 15);
    assert.is(statSync(path).size, size, "the file is not cut");
    const all = await collect(j.readAll());
    const lost = 300 - all.length;
    assert.ok(lost >= 1 && lost <= 2, `${lost} records lost to 16 bytes`);
    // The survivors are exactly the records outside the damaged range, in order.
    const ids = all.map((r) => Number(utf8d.decode(r.data).split("-")[1]));
    assert.equal(ids, [...ids].sort((a, b) => a - b));
    assert.is(ids.at(-1), 299);
    for (const r of all) assert.is(r.stream, `s${Number(utf8d.decode(r.data).split("-")[1]) % 3}`);
    assert.is(j.stats().damagedBytes, damage[0]!.bytes);
    assert.is(j.stats().truncatedBytes, 0);
    assert.is(j.lastPosition("s2"), 100);
    assert.is(j.append("s2", utf8.encode("after")), 101);
    await j.close();
    // Reopened: the same damage, reported again, and the new record after it.
    const again: JournalDamage[] = [];
    const k = await open(dir.path, again);
    assert.equal(again, damage);
    const reread = await collect(k.readAll());
    assert.is(reread.length, all.length + 1);
    assert.is(utf8d.decode(reread.at(-1)!.data), "after");
    await k.close();
  } finally {
    dir.remove();
  }
});

test("a damaged length field that claims more bytes than follow is damage when intact records follow", async () => {
  const dir = tempDir();
  try {
    await writeJournal(dir.path, 30);
    const path = onlySegment(dir.path);
    const bytes = readFileSync(path);
    const recordBytes = 8 + bytes.readUInt32LE(8);
    const tenth = 8 + 9 * recordBytes;
    bytes.writeUInt32LE(1 << 20, tenth); // a length of 1 MiB: past the end of the file
    writeFileSync(path, bytes);
    const damage: JournalDamage[] = [], torn: TruncateInfo[] = [];
    const j = await open(dir.path, damage, torn);
    assert.is(torn.length, 0);
    assert.equal(damage.map((d) => [d.offset, d.bytes]), [[tenth, recordBytes]]);
    assert.match(damage[0]!.reason, /partial record/);
    const all = await collect(j.readAll());
    assert.is(all.length, 29);
    assert.ok(!all.some((r) => utf8d.decode(r.data).startsWith("rec-9-")));
    await j.close();
  } finally {
    dir.remove();
  }
});

test("an intact record whose position does not rise is reported and skipped, not read twice", async () => {
  const dir = tempDir();
  try {
    await writeJournal(dir.path, 9);
    const path = onlySegment(dir.path);
    const bytes = readFileSync(path);
    const recordBytes = 8 + bytes.readUInt32LE(8);
    // The last record (s2's third) is overwritten by a copy of the first (s0's first, pos 1),
    // then one more intact record of s2 follows: s0 at 1 after 3 is not a rising position.
    const last = 8 + 8 * recordBytes;
    const copy = Buffer.from(bytes.subarray(8, 8 + recordBytes));
    const tail = Buffer.from(bytes.subarray(last, last + recordBytes));
    writeFileSync(path, Buffer.concat([bytes.subarray(0, last), copy, tail]));
    const damage: JournalDamage[] = [];
    const j = await open(dir.path, damage);
    assert.is(damage.length, 1);
    assert.is(damage[0]!.offset, last);
    assert.match(damage[0]!.reason, /stream "s0" has position 1 after 3/);
    const s0 = await collect(j.read("s0"));
    assert.equal(s0.map((r) => r.pos), [1, 2, 3]);
    assert.is((await collect(j.readAll())).length, 9);
    await j.close();
  } finally {
    dir.remove();
  }
});

test("advance() continues a stream's positions past records a snapshot covers, and never moves them back", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never" });
    j.append("a", utf8.encode("x"));
    j.advance("a", 40);
    j.advance("a", 7);
    j.advance("b", 5);
    assert.is(j.append("a", utf8.encode("y")), 41);
    assert.is(j.append("b", utf8.encode("z")), 6);
    assert.throws(() => j.advance("a", -1), /position -1/);
    await j.close();
    const k = await FileJournal.open(dir.path, { fsync: "never" });
    assert.is(k.lastPosition("a"), 41);
    assert.equal((await collect(k.read("a"))).map((r) => r.pos), [1, 41]);
    await k.close();
  } finally {
    dir.remove();
  }
});

test.run();
