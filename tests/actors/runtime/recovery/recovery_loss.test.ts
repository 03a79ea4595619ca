/**
 * Recovery over a journal that lost inputs its instances need, with a real file journal and file
 * snapshot store: a damaged snapshot over a compacted journal, a deleted segment, a snapshot ahead
 * of a journal that lost its tail. The host reports each, and starts over a loss it cannot rebuild
 * only when told to accept it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import { FileSnapshotStore } from "../../../../actors/runtime/snapshots/file_snapshot_store.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { JournalLossError } from "../../../../actors/runtime/journal/journal_loss.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("recovery_loss");

const BATCH = 50;

function publish(bus: InProcessBus, channel: string, from: number, to: number): void {
  for (let f = from; f < to; f++) {
    const t = new Float64Array(BATCH), v = new Float64Array(BATCH);
    for (let i = 0; i < BATCH; i++) {
      t[i] = 1_700_000_000_000_000 + (f * BATCH + i) * 1000;
      v[i] = (f * 7 + i) % 13;
    }
    bus.publish(
      feedSubject("test", channel),
      encodeFrame({ channel, seq0: f * BATCH, t, v }, { id: `${channel}-${f}`, src: "test" }),
    );
  }
}

interface Opened {
  host: Host;
  bus: InProcessBus;
  journal: FileJournal;
  snapshots: FileSnapshotStore;
  log: string[];
  close(): Promise<void>;
}

async function openHost(
  dir: string,
  options: { accept?: boolean; snapEvery?: number; snapshotMinInputs?: number } = {},
) {
  const log: string[] = [];
  const journal = await FileJournal.open(join(dir, "journal"), {
    fsync: "never",
    segmentBytesMax: 4096,
    onDamage: (d) => log.push(`damage ${d.segment}:${d.offset}`),
  });
  const snapshots = await FileSnapshotStore.open(join(dir, "snapshots"), {
    onCorrupt: (c) => log.push(`snapshot damaged ${c.where}: ${c.reason}`),
  });
  const bus = new InProcessBus();
  const host = new Host({
    hostId: "h",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1_000_000 } },
    journal,
    snapshots,
    snapshotEveryInputs: options.snapEvery ?? 1_000_000,
    ...(options.snapshotMinInputs ? { snapshotMinInputs: options.snapshotMinInputs } : {}),
    compactEveryMs: 0,
    acceptJournalLoss: options.accept ?? false,
    log: (m) => log.push(m),
  });
  const opened: Opened = {
    host,
    bus,
    journal,
    snapshots,
    log,
    async close() {
      await host.stop();
      await journal.close();
      await snapshots.close();
    },
  };
  return opened;
}

/** Starts a host expected to refuse; returns its error, with journal and store closed. */
async function refused(h: Opened): Promise<JournalLossError> {
  try {
    await h.host.start();
  } catch (err) {
    await h.close();
    assert.instance(err, JournalLossError);
    return err as JournalLossError;
  }
  await h.close();
  throw new Error(`the host started:\n${h.log.join("\n")}`);
}

function count(h: Opened, key: string): number {
  return statsSummary(h.host.instance("stats", key)!.kernelState as StatsState).count;
}

test("a damaged snapshot over a compacted journal is reported, and the loss refused until accepted", async () => {
  const dir = tempDir();
  try {
    const a = await openHost(dir.path, { snapEvery: 10 });
    await a.host.start();
    publish(a.bus, "x", 0, 100);
    await a.bus.flush();
    // Snapshots are saved, and the journal compacted behind them, in the background.
    for (let i = 0; i < 200 && a.journal.segments().length > 2; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const segs = a.journal.segments();
    publish(a.bus, "x", 100, 105); // after the last compaction: kept by the journal
    await a.bus.flush();
    await a.close();
    const snap = join(dir.path, "snapshots", "stats=2Fx.snap");
    const bytes = readFileSync(snap);
    bytes[bytes.length - 3]! ^= 0x10;
    writeFileSync(snap, bytes);
    const b = await openHost(dir.path);
    const err = await refused(b);
    assert.ok(segs.length <= 2, `compaction left ${segs.length} segments`);
    assert.ok(b.log.some((l) => l.startsWith("snapshot damaged")), b.log.join("\n"));
    assert.is(err.losses.length, 1);
    assert.is(err.losses[0]!.stream, "stats/x");
    assert.is(err.losses[0]!.from, 1);
    assert.ok(err.losses[0]!.init);
    assert.match(err.message, /stats\/x: inputs 1-\d+ \(\d+\), with its starting configuration/);
    const c = await openHost(dir.path, { accept: true });
    await c.host.start();
    assert.ok(
      c.log.some((l) => /stats\/x: inputs 1-\d+.* accepted as lost/.test(l)),
      c.log.join("\n"),
    );
    const kept = count(c, "x");
    assert.ok(kept >= 5 * BATCH && kept < 100 * BATCH, `${kept} samples kept`);
    publish(c.bus, "x", 105, 106);
    await c.bus.flush();
    assert.is(count(c, "x"), kept + BATCH);
    await c.close();
  } finally {
    dir.remove();
  }
});

test("a deleted segment is a gap in positions: refused, then accepted with every other record applied", async () => {
  const dir = tempDir();
  try {
    // Its stop snapshots nothing (nor drops what a snapshot covers): the journal is all there is.
    const a = await openHost(dir.path, { snapshotMinInputs: 1_000_000 });
    await a.host.start();
    publish(a.bus, "y", 0, 60);
    await a.bus.flush();
    await a.host.stop();
    await a.journal.close();
    await a.snapshots.close();
    const snapped = readdirSync(join(dir.path, "snapshots")).filter((f) =>
      /^stats.*\.snap$/.test(f)
    );
    assert.equal(snapped, []);
    const journalDir = join(dir.path, "journal");
    const segs = readdirSync(journalDir).filter((f) => f.endsWith(".seg")).sort();
    assert.ok(segs.length >= 4, `${segs.length} segments`);
    const gone = segs[2]!;
    unlinkSync(join(journalDir, gone));
    const b = await openHost(dir.path);
    const err = await refused(b);
    assert.is(err.losses.length, 1);
    assert.ok(!err.losses[0]!.init);
    const lostInputs = err.losses[0]!.to - err.losses[0]!.from + 1;
    assert.ok(lostInputs > 0 && lostInputs < 60, `${lostInputs} lost`);
    const c = await openHost(dir.path, { accept: true });
    await c.host.start();
    assert.is(count(c, "y"), (60 - lostInputs) * BATCH);
    await c.close();
  } finally {
    dir.remove();
  }
});

test("a snapshot ahead of a journal that lost its tail continues the stream's positions after it", async () => {
  const dir = tempDir();
  try {
    const a = await openHost(dir.path);
    await a.host.start();
    publish(a.bus, "z", 0, 40);
    await a.bus.flush();
    await a.close(); // snapshots at stop: position 41 (the init and 40 frames)
    const journalDir = join(dir.path, "journal");
    const segs = readdirSync(journalDir).filter((f) => f.endsWith(".seg")).sort();
    unlinkSync(join(journalDir, segs.at(-1)!)); // the tail the snapshot covers
    const b = await openHost(dir.path);
    await b.host.start();
    // The journal holds none of z past its snapshot: told in one line for every such stream.
    assert.ok(
      b.log.some((l) => /^1 instance\(s\) have no journal records left \(compacted/.test(l)),
      b.log.join("\n"),
    );
    assert.is(count(b, "z"), 40 * BATCH);
    publish(b.bus, "z", 40, 41);
    await b.bus.flush();
    assert.is(b.journal.lastPosition("stats/z"), 42);
    await b.close();
    const c = await openHost(dir.path);
    await c.host.start();
    assert.is(count(c, "z"), 41 * BATCH);
    await c.close();
  } finally {
    dir.remove();
  }
});

test("a file journal is never compacted behind snapshots kept in memory: the next start finds every input", async () => {
  const dir = tempDir();
  try {
    const open = async () => {
      const journal = await FileJournal.open(join(dir.path, "journal"), {
        fsync: "never",
        segmentBytesMax: 4096,
      });
      const bus = new InProcessBus();
      const host = new Host({
        hostId: "h",
        bus,
        actors: [statsActor],
        config: { stats: { every_samples: 1_000_000 } },
        journal,
        snapshots: new MemorySnapshotStore(),
        snapshotEveryInputs: 10,
        compactEveryMs: 0,
        log: () => {},
      });
      await host.start();
      return { host, bus, journal };
    };
    const a = await open();
    publish(a.bus, "m", 0, 100);
    await a.bus.flush();
    await new Promise((r) => setTimeout(r, 300)); // snapshots saved (and compaction not done)
    const segments = a.journal.segments().length;
    const first = a.journal.segments()[0]!.path;
    assert.ok(segments > 4, `${segments} segments`);
    await a.host.stop();
    await a.journal.close();
    const b = await open();
    assert.is(b.journal.segments()[0]!.path, first, "the first segment is kept");
    assert.is(
      statsSummary(b.host.instance("stats", "m")!.kernelState as StatsState).count,
      100 * BATCH,
    );
    await b.host.stop();
    await b.journal.close();
  } finally {
    dir.remove();
  }
});

test.run();
