import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import {
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { FileJournal, type TruncateInfo } from "../../../../actors/runtime/journal/file_journal.ts";
import { checkFileJournalOptions } from "../../../../actors/runtime/journal/file_journal_options.ts";
import {
  type FsyncPolicy,
  JournalCorruptError,
} from "../../../../actors/runtime/journal/journal.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { tempDir } from "../../../_support/nats.ts";
import { collect, payload, segmentFiles, text } from "./_file_journal_support.ts";

const test = suite("file_journal");

test("append() numbers each stream's records 1, 2, 3... and readAll() returns them in append order", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "always" });
    const streams = ["stats/A", "stats/B", "anomaly/A"];
    const expected: { stream: string; pos: number; data: string }[] = [];
    const prng = new Prng(1);
    for (let n = 0; n < 300; n++) {
      const stream = streams[prng.int(streams.length)]!;
      const pos = j.append(stream, payload(n));
      expected.push({ stream, pos, data: `record-${n}` });
    }
    for (const s of streams) {
      const mine = expected.filter((e) => e.stream === s).map((e) => e.pos);
      assert.equal(mine, mine.map((_, i) => i + 1), `positions of ${s}`);
      assert.is(j.lastPosition(s), mine.length);
    }
    assert.is(j.lastPosition("stats/none"), 0);
    assert.equal(j.streams().sort(), [...streams].sort());
    const all = await collect(j.readAll());
    assert.equal(all.map((r) => ({ stream: r.stream, pos: r.pos, data: text(r.data) })), expected);
    assert.is(j.stats().records, 300);
    await j.close();
  } finally {
    dir.remove();
  }
});

test("streamLasts() gives streams() and each one's lastPosition at the same index, after a reopen and an advance too", async () => {
  const dir = tempDir();
  try {
    const check = (j: FileJournal, label: string) => {
      const { streams, lasts } = j.streamLasts();
      assert.equal(streams, j.streams(), label);
      assert.equal([...lasts], streams.map((s) => j.lastPosition(s)), label);
    };
    let j = await FileJournal.open(dir.path, { fsync: "never" });
    const prng = new Prng(7);
    for (let n = 0; n < 200; n++) j.append(`stats/s${prng.int(23)}`, payload(n));
    check(j, "as appended");
    await j.close();
    j = await FileJournal.open(dir.path, { fsync: "never" });
    check(j, "reopened");
    j.advance("stats/s3", j.lastPosition("stats/s3") + 40);
    j.advance("stats/new", 12);
    check(j, "advanced");
    assert.is(j.streamLasts().lasts[j.streams().indexOf("stats/new")], 12);
    await j.close();
  } finally {
    dir.remove();
  }
});

test("read() returns one stream's records after a position, and readAll() filters by `after`", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "interval" });
    for (let n = 0; n < 40; n++) j.append(n % 2 ? "odd" : "even", payload(n));
    const odd = await collect(j.read("odd", 15));
    assert.equal(odd.map((r) => r.pos), [16, 17, 18, 19, 20]);
    assert.equal(odd.map((r) => text(r.data)), [31, 33, 35, 37, 39].map((n) => `record-${n}`));
    assert.equal(await collect(j.read("missing")), []);
    const tail = await collect(j.readAll(new Map([["even", 18], ["odd", 20]])));
    assert.equal(tail.map((r) => `${r.stream}:${r.pos}`), ["even:19", "even:20"]);
    const mixed = await collect(j.readAll(new Map([["even", 19]])));
    assert.is(mixed.length, 21);
    assert.equal(mixed.filter((r) => r.stream === "even").map((r) => r.pos), [20]);
    // Streams `after` does not name read past `unlisted`: Infinity, none of them.
    const listed = await collect(j.readAll(new Map([["even", 17]]), Infinity));
    assert.equal(listed.map((r) => `${r.stream}:${r.pos}`), ["even:18", "even:19", "even:20"]);
    assert.is((await collect(j.readAll(new Map(), Infinity))).length, 0);
    // Leaving a read early ends it cleanly; the journal reads again from the start.
    const firstFew: number[] = [];
    for await (const r of j.readAll()) {
      firstFew.push(r.pos);
      if (firstFew.length === 3) break;
    }
    assert.equal(firstFew, [1, 1, 2]);
    assert.is((await collect(j.readAll())).length, 40);
    await j.close();
  } finally {
    dir.remove();
  }
});

test("flush() hands the buffered records to the file at once, not at the interval's write", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "interval", fsyncIntervalMs: 60_000 });
    const bytes = () =>
      segmentFiles(dir.path).reduce((n, f) => n + statSync(join(dir.path, f)).size, 0);
    const before = bytes();
    for (let n = 0; n < 3; n++) j.append("a", payload(n));
    assert.is(bytes(), before, "buffered");
    j.flush();
    // Written at once, or as soon as a write in flight ends: long before the interval's write.
    const t0 = Date.now();
    while (bytes() === before && Date.now() - t0 < 5_000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(bytes() > before + 3 * "record-0".length, `${bytes()} bytes after ${before}`);
    await j.close();
  } finally {
    dir.remove();
  }
});

test("a reopened journal keeps every record and continues each stream's positions", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "interval" });
    for (let n = 0; n < 10; n++) j.append(n < 7 ? "a" : "b", payload(n));
    await j.close();
    const k = await FileJournal.open(dir.path, { fsync: "interval" });
    assert.is(k.lastPosition("a"), 7);
    assert.is(k.lastPosition("b"), 3);
    assert.is(k.append("a", payload(10)), 8);
    assert.is(k.append("c", payload(11)), 1);
    const all = await collect(k.readAll());
    assert.equal(all.map((r) => text(r.data)), [...Array(12).keys()].map((n) => `record-${n}`));
    assert.is(k.stats().truncatedBytes, 0);
    await k.close();
  } finally {
    dir.remove();
  }
});

test("open() cuts a torn tail (a partial last record), reports it and keeps every complete record", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "always" });
    for (let n = 0; n < 20; n++) j.append("s", payload(n, 50));
    await j.close();
    const [seg] = segmentFiles(dir.path);
    const path = join(dir.path, seg!);
    const size = statSync(path).size;
    truncateSync(path, size - 13);
    const reports: TruncateInfo[] = [];
    const k = await FileJournal.open(dir.path, {
      fsync: "always",
      onTruncate: (r) => reports.push(r),
    });
    const recordBytes = 18 + 1 + payload(19, 50).length;
    assert.is(reports.length, 1);
    assert.is(reports[0]!.segment, path);
    assert.is(reports[0]!.offset, size - recordBytes);
    assert.is(reports[0]!.bytes, recordBytes - 13);
    assert.match(reports[0]!.reason, /partial record/);
    assert.is(k.stats().truncatedBytes, recordBytes - 13);
    assert.is(statSync(path).size, size - recordBytes);
    assert.is(k.lastPosition("s"), 19);
    assert.is(k.append("s", payload(99)), 20);
    const all = await collect(k.readAll());
    assert.equal(all.map((r) => r.pos), [...Array(20).keys()].map((i) => i + 1));
    assert.is(text(all[19]!.data), "record-99");
    await k.close();
    const reopened = await FileJournal.open(dir.path, { fsync: "always" });
    assert.is(reopened.stats().truncatedBytes, 0);
    assert.is(reopened.lastPosition("s"), 20);
    await reopened.close();
  } finally {
    dir.remove();
  }
});

test("open() cuts a last record whose CRC does not match its bytes", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never" });
    for (let n = 0; n < 5; n++) j.append("s", payload(n));
    await j.close();
    const path = join(dir.path, segmentFiles(dir.path)[0]!);
    const bytes = readFileSync(path);
    bytes[bytes.length - 2]! ^= 0x20; // a bit of the last record's data
    writeFileSync(path, bytes);
    const reports: TruncateInfo[] = [];
    const k = await FileJournal.open(dir.path, {
      fsync: "never",
      onTruncate: (r) => reports.push(r),
    });
    assert.is(reports.length, 1);
    assert.match(reports[0]!.reason, /CRC mismatch/);
    assert.is(reports[0]!.bytes, 18 + 1 + payload(4).length);
    assert.equal((await collect(k.readAll())).map((r) => text(r.data)), [
      "record-0",
      "record-1",
      "record-2",
      "record-3",
    ]);
    await k.close();
  } finally {
    dir.remove();
  }
});

test("inlineWriteBytesMax: sync() of a small batch resolves without a hop to an I/O thread, a large one waits for it", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "never", inlineWriteBytesMax: 4096 });
    /** Whether `p` settles within a few microtasks, before any I/O callback can run. */
    const settlesAtOnce = async (p: Promise<void>) => {
      let settled = false;
      const done = p.then(() => void (settled = true));
      for (let i = 0; i < 10; i++) await Promise.resolve();
      const now = settled;
      await done;
      return now;
    };
    for (let n = 0; n < 10; n++) j.append("s", payload(n));
    assert.ok(await settlesAtOnce(j.sync()), "a small batch is written on this thread");
    for (let n = 10; n < 20; n++) j.append("s", payload(n, 1000)); // ~10 KiB: over the bound
    assert.not.ok(await settlesAtOnce(j.sync()), "a large batch goes to an I/O thread");
    const all = await collect(j.readAll());
    assert.equal(
      all.map((r) => text(r.data).replace(/x+$/, "")),
      [...Array(20).keys()].map((n) => `record-${n}`),
    );
    await j.close();
    const k = await FileJournal.open(dir.path, { fsync: "never" });
    assert.is((await collect(k.readAll())).length, 20, "every record is in the file");
    await k.close();
    assert.throws(
      () => checkFileJournalOptions({ fsync: "never", inlineWriteBytesMax: -1 }),
      /"inlineWriteBytesMax" must be an integer >= 0, got -1/,
    );
  } finally {
    dir.remove();
  }
});

test("a crash after sync() loses only unsynced appends: the survivors are a prefix", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "interval", fsyncIntervalMs: 60_000 });
    const streams = ["a", "b", "c"];
    for (let n = 0; n < 30; n++) j.append(streams[n % 3]!, payload(n));
    await j.sync();
    for (let n = 30; n < 45; n++) j.append(streams[n % 3]!, payload(n));
    j.simulateCrash();
    const k = await FileJournal.open(dir.path, { fsync: "interval" });
    const all = await collect(k.readAll());
    assert.equal(all.map((r) => text(r.data)), [...Array(30).keys()].map((n) => `record-${n}`));
    for (const s of streams) assert.is(k.lastPosition(s), 10);
    assert.is(k.append("a", payload(0)), 11);
    await k.close();
  } finally {
    dir.remove();
  }
});

test("kill -9 of a process appending under load leaves a prefix holding every synced record", async () => {
  const dir = tempDir();
  try {
    const journalModule = resolve("actors/runtime/journal/file_journal.ts");
    // The child appends round-robin over 7 streams with a small write buffer, syncs every 50
    // appends and prints how many appends the last sync covered.
    const code = `
      const { FileJournal } = await import(${JSON.stringify(journalModule)});
      const j = await FileJournal.open(${
      JSON.stringify(dir.path)
    }, { fsync: "interval", fsyncIntervalMs: 5, writeBufferBytes: 4096, segmentBytesMax: 65536 });
      const enc = new TextEncoder();
      for (let n = 0; ; n++) {
        j.append("s" + (n % 7), enc.encode("record-" + n + "-".repeat(n % 97)));
        if (n % 50 === 49) { await j.sync(); console.log("synced " + (n + 1)); }
      }`;
    const isDeno = "Deno" in globalThis;
    const args = isDeno ? ["eval", code] : ["--import", "tsx", "--input-type=module", "-e", code];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    // The exit event, not signalCode: Deno sets signalCode as the signal is sent, before the
    // process is gone (and still holds the journal's lock).
    const exited = new Promise((done) => child.once("exit", done));
    let synced = 0;
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error("the child did not sync 20000 appends in 15 s")),
        15_000,
      );
      child.stdout!.on("data", (chunk: Buffer) => {
        const m = /synced (\d+)\s*$/.exec(chunk.toString());
        if (m) synced = Number(m[1]);
        if (synced >= 20_000) {
          clearTimeout(timer);
          child.kill("SIGKILL");
          done();
        }
      });
      child.on(
        "exit",
        () => synced < 20_000 && fail(new Error(`the child exited after ${synced}`)),
      );
    });
    await exited;
    const k = await FileJournal.open(dir.path, { fsync: "never" });
    let n = 0;
    for await (const r of k.readAll()) {
      assert.is(r.stream, `s${n % 7}`);
      assert.is(r.pos, Math.floor(n / 7) + 1);
      assert.is(text(r.data), `record-${n}` + "-".repeat(n % 97));
      n++;
    }
    assert.ok(n >= synced, `kept ${n} records, the child had synced ${synced}`);
    assert.ok(k.segments().length > 1, "the segments rolled");
    await k.close();
  } finally {
    dir.remove();
  }
});

/** Files under `dir` this process holds open, where the platform lists them (Linux). */
function openFilesUnder(dir: string): string[] {
  let fds: string[];
  try {
    fds = readdirSync("/proc/self/fd");
  } catch {
    return [];
  }
  const open: string[] = [];
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) open.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return open;
}

for (const [policy, buffersMax] of [["interval", 4], ["always", 1], ["never", 1]] as const) {
  test(
    `batches written in the background under fsync ${policy} (${buffersMax} waiting buffer${
      buffersMax > 1 ? "s" : ""
    }) keep every record in order across segment rolls, reads, syncs and reopen`,
    async () => {
      const dir = tempDir();
      try {
        const j = await FileJournal.open(dir.path, {
          fsync: policy,
          fsyncIntervalMs: 5,
          segmentBytesMax: 16 * 1024,
          writeBufferBytes: 1024,
          writeBuffersMax: buffersMax,
        });
        const streams = ["a", "b", "c", "d", "e"];
        const expected: string[] = [];
        for (let n = 0; n < 3000; n++) {
          j.append(streams[n % 5]!, payload(n, n % 37));
          expected.push(`record-${n}` + "x".repeat(n % 37));
          // Reads, syncs and compactions land while batches are in flight and segments seal.
          if (n === 1000) {
            const sofar = await collect(j.readAll());
            assert.equal(sofar.map((r) => text(r.data)), expected);
          }
          if (n % 500 === 250) await j.sync();
          if (n === 2000) await j.compact(new Map());
        }
        const segments = j.segments();
        assert.ok(segments.length >= 6, `${segments.length} segments`);
        assert.ok(segments.slice(0, -1).every((s) => s.sealed));
        const all = await collect(j.readAll());
        assert.equal(all.map((r) => text(r.data)), expected);
        for (const s of streams) assert.is(j.lastPosition(s), 600);
        await j.close();
        // Every sealed segment got its index; every file the journal opened is closed.
        const files = readdirSync(dir.path);
        for (const s of segments.slice(0, -1)) {
          assert.ok(files.includes(s.path.slice(-12, -4) + ".idx"), `index of ${s.path}`);
        }
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(openFilesUnder(dir.path), []);
        const k = await FileJournal.open(dir.path, { fsync: "never" });
        assert.is(k.stats().truncatedBytes, 0);
        assert.equal((await collect(k.readAll())).map((r) => text(r.data)), expected);
        await k.close();
      } finally {
        dir.remove();
      }
    },
  );
}

test("a crash while batches wait for the disk leaves a prefix holding every synced record", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, {
      fsync: "interval",
      fsyncIntervalMs: 60_000,
      segmentBytesMax: 8 * 1024,
      writeBufferBytes: 512,
    });
    for (let n = 0; n < 400; n++) j.append("s", payload(n, 20));
    await j.sync();
    // Many batches are handed to the disk, and segments roll, right before the crash.
    for (let n = 400; n < 1200; n++) j.append("s", payload(n, 20));
    j.simulateCrash();
    const k = await FileJournal.open(dir.path, { fsync: "interval" });
    const got = (await collect(k.readAll())).map((r) => text(r.data));
    assert.ok(got.length >= 400, `${got.length} records survived`);
    assert.equal(got, [...Array(got.length).keys()].map((n) => `record-${n}` + "x".repeat(20)));
    assert.is(k.lastPosition("s"), got.length);
    await k.close();
  } finally {
    dir.remove();
  }
});

test("append() rejects an empty stream name and a bad fsync option, naming the value", async () => {
  const dir = tempDir();
  try {
    assert.throws(
      () => FileJournal.open(dir.path, { fsync: "sometimes" as unknown as FsyncPolicy }),
      /"fsync" must be "always", "interval" or "never", got "sometimes"/,
    );
    const j = await FileJournal.open(dir.path, { fsync: "never" });
    assert.throws(() => j.append("", payload(0)), /stream name must be 1 to 1024 bytes, got 0/);
    assert.is(j.lastPosition(""), 0);
    await j.close();
    assert.throws(() => j.append("s", payload(0)), /closed/);
  } finally {
    dir.remove();
  }
});

test("open() refuses a segment of another format version, naming both versions", async () => {
  const dir = tempDir();
  try {
    const j = await FileJournal.open(dir.path, { fsync: "always" });
    j.append("stats/A", payload(1));
    await j.close();
    const seg = join(dir.path, segmentFiles(dir.path)[0]!);
    const bytes = readFileSync(seg);
    bytes[4] = 1; // version 1: records checksummed with CRC-32C
    writeFileSync(seg, bytes);
    try {
      await FileJournal.open(dir.path, { fsync: "always" });
      assert.unreachable("a version 1 segment was opened");
    } catch (err) {
      assert.instance(err, JournalCorruptError);
      assert.is((err as JournalCorruptError).where, seg);
      assert.match((err as Error).message, /format version 1, this code reads 2/);
    }
  } finally {
    dir.remove();
  }
});

test.run();
