import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { FileJournal, type TruncateInfo } from "../../../../actors/runtime/journal/file_journal.ts";
import { type JournalDamage } from "../../../../actors/runtime/journal/journal.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { tempDir } from "../../../_support/nats.ts";
import { collect, payload, segmentFiles, text } from "./_file_journal_support.ts";

const test = suite("file_journal_segments");

test("segments roll at segmentBytesMax, sealed ones get an index, and open() reads indexes instead of scanning", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 4096 });
    for (let n = 0; n < 200; n++) j.append(`s${n % 3}`, payload(n, 100));
    const segments = j.segments();
    assert.ok(segments.length >= 6, `${segments.length} segments`);
    assert.ok(segments.slice(0, -1).every((s) => s.sealed && s.bytes <= 4096));
    await j.close();
    const files = readdirSync(dir.path);
    for (const s of segments.slice(0, -1)) {
      assert.ok(files.includes(s.path.slice(-12, -4) + ".idx"));
    }
    assert.ok(!files.includes(segments.at(-1)!.path.slice(-12, -4) + ".idx"));
    assert.equal(files.filter((f) => !/^\d{8}\.(seg|idx)$/.test(f) && f !== "LOCK"), []);
    // Damage a sealed segment's middle without changing its size: open trusts the index and
    // does not read it; a read of that segment reports the damage (once) and reads on after it.
    const first = segments[0]!.path;
    const bytes = readFileSync(first);
    bytes[200]! ^= 0xff;
    writeFileSync(first, bytes);
    const damage: JournalDamage[] = [];
    const k = await FileJournal.open(dir.path, {
      fsync: "never",
      onDamage: (d) => damage.push(d),
    });
    assert.is(k.lastPosition("s0"), 67);
    assert.is(k.stats().records, 200);
    assert.is(damage.length, 0);
    const recordBytes = 18 + 2 + payload(0, 100).length;
    for (let round = 0; round < 2; round++) {
      const all = await collect(k.readAll());
      assert.is(all.length, 199, "every record but the damaged one");
      assert.ok(!all.some((r) => text(r.data) === `record-1${"x".repeat(100)}`));
    }
    assert.is(damage.length, 1, "reported once however often it is read");
    assert.is(damage[0]!.segment, first);
    assert.is(damage[0]!.offset, 8 + recordBytes);
    assert.is(damage[0]!.bytes, recordBytes);
    assert.match(damage[0]!.reason, /CRC mismatch/);
    assert.is(k.stats().damagedBytes, recordBytes);
    // Segments whose records are all covered are skipped, so the damage is never read.
    const after = new Map([["s0", 60], ["s1", 60], ["s2", 60]]);
    const tail = await collect(k.readAll(after));
    assert.equal(
      tail.map((r) => text(r.data)),
      [...Array(20).keys()].map((i) => `record-${180 + i}` + "x".repeat(100)),
    );
    await k.close();
  } finally {
    dir.remove();
  }
});

test("read() finds each of many streams in every segment: live, reopened from indexes, reopened by scanning", async () => {
  const seed = 11;
  const prng = new Prng(seed);
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 2048 });
    // 40 streams, each appended to at random: a stream is in some segments and not others.
    const written = new Map<string, number[]>();
    for (let n = 0; n < 600; n++) {
      const stream = `s${prng.int(40)}`;
      const pos = j.append(stream, payload(n, 20));
      written.set(stream, [...(written.get(stream) ?? []), pos]);
    }
    assert.ok(j.segments().length >= 10, `${j.segments().length} segments`);
    const check = async (k: FileJournal, how: string) => {
      for (const [stream, positions] of written) {
        const after = positions[prng.int(positions.length)]! - 1;
        const got = await collect(k.read(stream, after));
        assert.equal(
          got.map((r) => r.pos),
          positions.filter((p) => p > after),
          `${stream} after ${after}, ${how}, seed ${seed}`,
        );
        assert.ok(got.every((r) => r.stream === stream));
      }
      assert.equal(await collect(k.read("s-none")), []);
    };
    await check(j, "live");
    await j.close();
    let k = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 2048 });
    await check(k, "from the indexes");
    // The next append of each stream continues its positions, in the active segment.
    for (const [stream, positions] of written) {
      positions.push(k.append(stream, payload(0)));
      assert.is(positions.at(-1), positions.at(-2)! + 1);
    }
    await check(k, "after appends");
    await k.close();
    for (const f of readdirSync(dir.path)) {
      if (f.endsWith(".idx")) writeFileSync(join(dir.path, f), "not an index");
    }
    k = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 2048 });
    await check(k, "by scanning");
    await k.close();
  } finally {
    dir.remove();
  }
});

test("open() rebuilds a missing index by scanning its segment", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 2048 });
    for (let n = 0; n < 50; n++) j.append(`s${n % 2}`, payload(n, 60));
    await j.close();
    const index = join(dir.path, "00000001.idx");
    const before = readFileSync(index);
    writeFileSync(index, before.subarray(0, 5)); // damaged: rebuilt
    const k = await FileJournal.open(dir.path, { fsync: "never" });
    assert.equal(readFileSync(index), before);
    const all = await collect(k.readAll());
    assert.is(all.length, 50);
    assert.is(k.lastPosition("s1"), 25);
    await k.close();
  } finally {
    dir.remove();
  }
});

test("a sealed segment that lost its end is damage, not a torn tail: later segments are kept", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 2048 });
    for (let n = 0; n < 60; n++) j.append("s", payload(n, 60));
    await j.close();
    const files = segmentFiles(dir.path);
    assert.ok(files.length >= 3);
    // As after a power loss with fsync "never": the second segment lost its end and its index.
    const second = join(dir.path, files[1]!);
    const size = statSync(second).size;
    truncateSync(second, size - 10);
    writeFileSync(join(dir.path, files[1]!.replace(".seg", ".idx")), "");
    const reports: TruncateInfo[] = [];
    const damage: JournalDamage[] = [];
    const k = await FileJournal.open(dir.path, {
      fsync: "never",
      onTruncate: (r) => reports.push(r),
      onDamage: (d) => damage.push(d),
    });
    assert.is(reports.length, 0);
    assert.is(damage.length, 1);
    assert.is(damage[0]!.segment, second);
    assert.is(damage[0]!.offset + damage[0]!.bytes, size - 10);
    assert.equal(segmentFiles(dir.path), files);
    assert.is(statSync(second).size, size - 10);
    const all = await collect(k.readAll());
    // Only the second segment's last record is gone: a gap of one position.
    assert.is(all.length, 59);
    assert.is(all[all.length - 1]!.pos, 60);
    const gap = all.findIndex((r, i) => r.pos !== i + 1);
    assert.ok(gap > 0);
    assert.is(all[gap]!.pos, gap + 2);
    assert.is(k.lastPosition("s"), 60);
    assert.is(k.append("s", payload(0)), 61);
    await k.close();
  } finally {
    dir.remove();
  }
});

test("compact() deletes only sealed segments whose records are all covered, and positions continue after reopen", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 2048 });
    for (let n = 0; n < 60; n++) j.append("busy", payload(n, 60));
    for (let n = 0; n < 3; n++) j.append("quiet", payload(n, 60));
    for (let n = 60; n < 80; n++) j.append("busy", payload(n, 60));
    const before = j.segments();
    assert.ok(before.length >= 4, `${before.length} segments`);
    await j.compact(new Map([["busy", 40]]));
    const after = j.segments();
    assert.ok(after.length < before.length && after.length >= 2);
    const kept = await collect(j.read("busy"));
    assert.ok(kept[0]!.pos <= 41, `the first kept record is ${kept[0]!.pos}`);
    assert.equal(kept.map((r) => r.pos), kept.map((_, i) => kept[0]!.pos + i));
    assert.is(kept.at(-1)!.pos, 80);
    // Compacting everything that is sealed leaves "quiet" with no records but its position.
    await j.compact(new Map([["busy", 80], ["quiet", 3]]));
    assert.is(j.segments().length, 1);
    assert.is(j.stats().records, j.segments()[0]!.records);
    await j.close();
    const k = await FileJournal.open(dir.path, { fsync: "never" });
    assert.is(k.lastPosition("quiet"), 3);
    assert.is(k.lastPosition("busy"), 80);
    assert.is(k.append("quiet", payload(0)), 4);
    assert.ok(existsSync(join(dir.path, "positions")));
    await k.close();
  } finally {
    dir.remove();
  }
});

test("compact() keeps a segment holding any stream's record past its position, after streams interleave across rolls", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 2048 });
    for (let n = 0; n < 120; n++) j.append(`s${n % 2}`, payload(n, 60));
    assert.ok(j.segments().length >= 6, `${j.segments().length} segments`);
    // "s1" covered whole, "s0" not at all: every segment holds an "s0" record, so none may go.
    await j.compact(new Map([["s1", 60]]));
    const expect = [...Array(60).keys()].map((i) => i + 1);
    assert.equal((await collect(j.read("s0"))).map((r) => r.pos), expect);
    await j.close();
    const k = await FileJournal.open(dir.path, { fsync: "never" });
    assert.equal((await collect(k.read("s0"))).map((r) => r.pos), expect);
    assert.equal((await collect(k.read("s1"))).map((r) => r.pos), expect);
    await k.close();
  } finally {
    dir.remove();
  }
});

test("compact() writes a stream's position only when no kept segment holds its last records", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never", segmentBytesMax: 2048 });
    // "held" is never covered, so the first segment stays; "x" goes on past it into a segment
    // that "z" fills and rolls, which is compacted away with the last records of "x".
    j.append("held", payload(0, 60));
    for (let n = 0; n < 30; n++) j.append("x", payload(n, 60));
    for (let n = 0; n < 30; n++) j.append("z", payload(n, 60));
    assert.ok(j.segments().length >= 3, `${j.segments().length} segments`);
    await j.compact(new Map([["x", 30], ["z", 30]]));
    const xs = (await collect(j.read("x"))).map((r) => r.pos);
    assert.ok(xs.length > 0 && xs.at(-1)! < 30, `"x" keeps ${xs.at(-1)} in the first segment`);
    assert.ok(existsSync(join(dir.path, "positions")), 'the last records of "x" went');
    await j.close();
    const k = await FileJournal.open(dir.path, { fsync: "never" });
    assert.is(k.lastPosition("x"), 30);
    assert.is(k.append("x", payload(0)), 31);
    await k.close();
  } finally {
    dir.remove();
  }
  // Streams that all go on in the active segment: no position to keep, no file written.
  const busy = tempDir();
  try {
    const j = await FileJournal.open(busy.path, { fsync: "never", segmentBytesMax: 2048 });
    for (let n = 0; n < 160; n++) j.append(`y${n % 2}`, payload(n, 60));
    const before = j.segments().length;
    await j.compact(new Map([["y0", 40], ["y1", 40]]));
    assert.ok(j.segments().length < before, "segments went");
    assert.not.ok(existsSync(join(busy.path, "positions")));
    await j.close();
    const k = await FileJournal.open(busy.path, { fsync: "never" });
    assert.is(k.lastPosition("y0"), 80);
    assert.is(k.append("y1", payload(0)), 81);
    await k.close();
  } finally {
    busy.remove();
  }
});

test("records larger than the write buffer and the read chunk round-trip", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, {
      fsync: "never",
      writeBufferBytes: 1024,
      readChunkBytes: 512,
    });
    const prng = new Prng(3);
    const sizes = [0, 1, 3000, 10, 100_000, 511, 512, 513];
    const sent = sizes.map((size) => {
      const b = new Uint8Array(size);
      for (let i = 0; i < size; i++) b[i] = prng.int(256);
      return b;
    });
    for (const b of sent) j.append("big", b);
    const got = await collect(j.read("big"));
    assert.is(got.length, sizes.length);
    for (let i = 0; i < sizes.length; i++) assert.equal(got[i]!.data, sent[i]!);
    await j.close();
  } finally {
    dir.remove();
  }
});

test("a sealed segment's index is on disk once close resolves; a crash right after a roll loses nothing and leaves no file aside", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "always", segmentBytesMax: 4096 });
    for (let n = 0; n < 60; n++) j.append(`s${n % 3}`, payload(n, 100));
    const sealed = j.segments().filter((s) => s.sealed);
    assert.ok(sealed.length >= 1);
    const index = (path: string) => path.slice(0, -4) + ".idx";
    // The appends returned before any index was on disk: a seal waits for its segment's writes.
    assert.ok(sealed.every((s) => !existsSync(index(s.path))));
    await j.close();
    assert.ok(sealed.every((s) => existsSync(index(s.path))));

    // A crash right after a roll, and a journal opened at once on the folder: every record
    // appended before the last fsync is read back, and no file aside is left once the write
    // the crashed journal had started has ended.
    const again = await FileJournal.open(dir.path, { fsync: "always", segmentBytesMax: 4096 });
    for (let n = 60; n < 90; n++) again.append(`s${n % 3}`, payload(n, 100));
    await again.sync();
    again.simulateCrash();
    const reopened = await FileJournal.open(dir.path, { fsync: "always", segmentBytesMax: 4096 });
    assert.equal((await collect(reopened.readAll())).length, 90);
    await reopened.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(readdirSync(dir.path).filter((f) => f.endsWith(".sealing")), []);
  } finally {
    dir.remove();
  }
});

test.run();
