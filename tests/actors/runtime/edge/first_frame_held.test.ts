/**
 * A host killed between a feed batch's admit record of a new channel and that channel's instance
 * records, against a real nats-server (JetStream input; JetStream or file journal; a lone host or
 * a leased partition's, whose next holder recovers it): the channels that shared the batch took
 * its source position, the new channel's instance journaled nothing.
 * Restarted, the host reads the batch again: the new channel's first frame is applied once, and
 * nothing the other channels took is applied twice.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import {
  ensureFeedStream,
  FEED_STREAM,
  jetStreamInput,
  partitionHostId,
} from "../../../../actors/runtime/mod.ts";
import type { Journal, JournalData } from "../../../../actors/runtime/journal/mod.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import {
  JetStreamJournal,
  JOURNAL_STREAM,
} from "../../../../actors/runtime/journal/jetstream/jetstream_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { EdgeDecisions, edgeStream } from "../../../../actors/runtime/edge/mod.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import {
  areaPattern,
  decodeInputRecord,
  encodeFeedBatch,
  encodeInputRecord,
  feedBatchSubject,
} from "../../../../protocol/mod.ts";
import { haveNatsServer, natsForSuite, tempDir } from "../../../_support/nats.ts";

const test = suite("a new channel's first frame across a kill");
const it = haveNatsServer("a new channel's first frame across a kill") ? test : test.skip;

const nats = natsForSuite(test, it);

const SAMPLES = 4;

/** A feed batch of `channels`, `SAMPLES` samples each, the `b`th of the feed. */
function batch(channels: string[], b: number): Uint8Array {
  const n = Uint32Array.from(channels, () => SAMPLES);
  const t = new Float64Array(channels.length * SAMPLES);
  const v = new Float64Array(channels.length * SAMPLES);
  for (let c = 0; c < channels.length; c++) {
    for (let i = 0; i < SAMPLES; i++) {
      t[c * SAMPLES + i] = 1_700_000_000_000_000 + (b * SAMPLES + i) * 1000;
      v[c * SAMPLES + i] = b * 10 + c + i;
    }
  }
  const ts = 1_700_000_000_000_000 + b;
  return encodeFeedBatch({ channels, n, t, v }, { id: `batch-${b}`, src: "test", ts });
}

/**
 * A journal that dies with its host: appends to `parked` streams wait (as a new instance's first
 * record waits on its append) and are never stored; after `kill()` nothing more is.
 */
class KilledJournal implements Journal {
  readonly #inner: Journal;
  readonly #parked: ReadonlySet<string>;
  #dead = false;

  constructor(inner: Journal, parked: ReadonlySet<string>) {
    this.#inner = inner;
    this.#parked = parked;
  }

  append(stream: string, data: JournalData): number | Promise<number> {
    if (this.#dead || this.#parked.has(stream)) return new Promise<number>(() => {});
    return this.#inner.append(stream, data);
  }
  lastPosition(stream: string) {
    return this.#inner.lastPosition(stream);
  }
  streams() {
    return this.#inner.streams();
  }
  read(stream: string, after?: number) {
    return this.#inner.read(stream, after);
  }
  readAll(after?: ReadonlyMap<string, number>) {
    return this.#inner.readAll(after);
  }
  sync() {
    return this.#dead ? Promise.resolve() : this.#inner.sync();
  }
  stats() {
    return this.#inner.stats();
  }
  prepare(stream: string) {
    return this.#inner.prepare?.(stream) ?? Promise.resolve(this.#inner.lastPosition(stream));
  }
  advance(stream: string, pos: number) {
    this.#inner.advance?.(stream, pos);
  }
  /** The process dies: what the journal stored stays, nothing more is stored. */
  kill(): void {
    this.#dead = true;
  }
  close() {
    return this.#inner.close();
  }
}

/** Where a host runs: alone, or as a leased partition's host (its next holder recovers it). */
interface Place {
  hostId: string;
  partitions?: { count: number; owned: number[] };
}

function newHost(
  journal: Journal,
  snapshots: MemorySnapshotStore,
  place: Place,
  more: { channelsMax?: number; bus?: InProcessBus } = {},
): Host {
  return new Host({
    ...place,
    ...(more.channelsMax === undefined ? {} : { limits: { channelsMax: more.channelsMax } }),
    bus: more.bus ?? new InProcessBus(),
    actors: [statsActor],
    journal,
    snapshots,
    input: jetStreamInput(nats.nc),
    snapshotEveryInputs: 1_000_000,
    snapshotEveryMs: 3_600_000,
    log: () => {},
  });
}

/** The samples the stats instance of `channel` counted, once they reach `count` (or after 10 s). */
async function countOf(host: Host, channel: string, count: number): Promise<number> {
  for (const end = Date.now() + 10_000;; await new Promise((r) => setTimeout(r, 25))) {
    const inst = host.instance("stats", channel);
    const n = inst ? statsSummary(inst.kernelState as StatsState).count : 0;
    if (n >= count || Date.now() > end) return n;
  }
}

/** After the restart: c's first frame read again and applied once, a's two frames once each. */
async function cAppliedOnce(restarted: Host): Promise<void> {
  assert.is(await countOf(restarted, "c", SAMPLES), SAMPLES, "c's first frame read again");
  await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
  assert.is(await countOf(restarted, "c", SAMPLES), SAMPLES, "c's first frame applied once");
  assert.is(await countOf(restarted, "a", 2 * SAMPLES), 2 * SAMPLES, "a's applied once");
}

/**
 * a, e and c are of partition 0 of 2, b of partition 1: a partition 0's host consumes no b, a
 * host of every partition does.
 */
async function firstFrameKept(
  open: () => Promise<Journal>,
  place: Place = { hostId: "ff" },
): Promise<void> {
  await ensureFeedStream(nats.nc);
  const jsm = await jetstreamManager(nats.nc);
  await jsm.streams.purge(FEED_STREAM);
  await (await JetStreamJournal.open(nats.nc)).close();
  await jsm.streams.purge(JOURNAL_STREAM);
  const js = jetstream(nats.nc);
  const inner = await open();
  const journal = new KilledJournal(inner, new Set(["stats/c"]));
  // No snapshot survives the kill: each instance is what its journal holds.
  const killed = newHost(journal, new MemorySnapshotStore(), place);
  await killed.start();
  await js.publish(feedBatchSubject("ff"), batch(["a", "b", "e"], 0));
  assert.is(await countOf(killed, "a", SAMPLES), SAMPLES);
  assert.is(await countOf(killed, "e", SAMPLES), SAMPLES);
  // c is new: admitted (journaled at the edge), its instance's first record never stored; a and
  // e, after it in the batch, take the batch's source position.
  await js.publish(feedBatchSubject("ff"), batch(["c", "a", "b", "e"], 1));
  assert.is(await countOf(killed, "a", 2 * SAMPLES), 2 * SAMPLES);
  assert.is(await countOf(killed, "e", 2 * SAMPLES), 2 * SAMPLES);
  const c = killed.instance("stats", "c");
  assert.is(c ? statsSummary(c.kernelState as StatsState).count : 0, 0, "c's frame is not applied");
  await journal.sync();
  journal.kill();
  await killed.stop();
  await inner.close();

  const reopened = await open();
  const restarted = newHost(reopened, new MemorySnapshotStore(), place);
  await restarted.start();
  try {
    await cAppliedOnce(restarted);
    assert.is(await countOf(restarted, "e", 2 * SAMPLES), 2 * SAMPLES, "e's applied once");
  } finally {
    await restarted.stop();
    await reopened.close();
  }
}

it("a JetStream journal: a new channel's first frame, unjournaled at a kill, is applied once", async () => {
  await firstFrameKept(() => JetStreamJournal.open(nats.nc));
});

it("a leased partition's next holder: a new channel's first frame, unjournaled, is applied once", async () => {
  const place = { hostId: partitionHostId(0), partitions: { count: 2, owned: [0] } };
  await firstFrameKept(() => JetStreamJournal.open(nats.nc), place);
});

it("a file journal: a new channel's first frame, unjournaled at a kill, is applied once", async () => {
  const dir = tempDir();
  try {
    await firstFrameKept(() => FileJournal.open(join(dir.path, "journal"), { fsync: "never" }));
  } finally {
    dir.remove();
  }
});

it("a batch read again after a kill skips only the frame dead-lettered in it, not the batch", async () => {
  await ensureFeedStream(nats.nc);
  const jsm = await jetstreamManager(nats.nc);
  await jsm.streams.purge(FEED_STREAM);
  const js = jetstream(nats.nc);
  const dir = tempDir();
  const open = () => FileJournal.open(join(dir.path, "journal"), { fsync: "never" });
  try {
    const inner = await open();
    const journal = new KilledJournal(inner, new Set(["stats/c"]));
    const letters: string[] = [];
    const killed = newHost(journal, new MemorySnapshotStore(), { hostId: "dl" }, {
      channelsMax: 4,
    });
    await killed.start();
    await js.publish(feedBatchSubject("ff"), batch(["a", "b", "e"], 0));
    assert.is(await countOf(killed, "e", SAMPLES), SAMPLES);
    // c is the fourth channel, admitted (its instance's record never stored); d, a fifth, is
    // refused and dead-lettered at the batch's source position.
    await js.publish(feedBatchSubject("ff"), batch(["c", "d", "a", "b", "e"], 1));
    assert.is(await countOf(killed, "e", 2 * SAMPLES), 2 * SAMPLES);
    assert.is(killed.instance("stats", "d"), undefined, "d refused");
    await journal.sync();
    journal.kill();
    await killed.stop();
    await inner.close();

    const reopened = await open();
    const bus = new InProcessBus();
    const sub = bus.subscribe(areaPattern("dlq"), (m) => void letters.push(m.subject));
    const restarted = newHost(reopened, new MemorySnapshotStore(), { hostId: "dl" }, {
      channelsMax: 4,
      bus,
    });
    await restarted.start();
    try {
      await cAppliedOnce(restarted);
      assert.is(restarted.instance("stats", "d"), undefined, "d not applied");
      assert.equal(letters, [], "d's frame not dead-lettered again");
    } finally {
      sub.unsubscribe();
      await restarted.stop();
      await reopened.close();
    }
  } finally {
    dir.remove();
  }
});

test("admit() journals the source position of the channel's first frame", () => {
  const journal = new MemoryJournal();
  new EdgeDecisions({ hostId: "h", journal, log: () => {} }).admit("x", 42);
  const [rec] = journal.recordsOf(edgeStream("h"));
  const r = decodeInputRecord(rec!.data);
  assert.equal([r.kind, r.subject, r.srcPos], ["admit", "x", 42]);
});

test("an admit record without a source position (an older journal's) holds nothing back", async () => {
  const journal = new MemoryJournal();
  const record = { kind: "admit" as const, srcPos: 0, subject: "x", payload: new Uint8Array(0) };
  journal.append(edgeStream("h"), encodeInputRecord(record));
  const decisions = new EdgeDecisions({ hostId: "h", journal, log: () => {} });
  await decisions.recover(new MemorySnapshotStore());
  assert.ok(decisions.admitted("x"));
  assert.is(decisions.firstFrameHeld(() => false), 0);
});

test("the edge's snapshot keeps the first frames not taken yet, past its journal's compaction", async () => {
  const decisions = new EdgeDecisions({ hostId: "h", journal: new MemoryJournal(), log: () => {} });
  decisions.admit("x", 5);
  decisions.admit("y", 7);
  decisions.admit("z", 9);
  const store = new MemorySnapshotStore();
  await store.save(decisions.snapshot((channel) => channel === "x"));
  // The admit records compacted away: what the snapshot holds is all there is.
  const after = new EdgeDecisions({ hostId: "h", journal: new MemoryJournal(), log: () => {} });
  await after.recover(store);
  assert.ok(after.admitted("x") && after.admitted("y") && after.admitted("z"));
  assert.is(after.firstFrameHeld((channel) => channel === "y"), 9, "z's is the lowest not taken");
  assert.is(after.firstFrameHeld(() => true), 0, "all taken: nothing held");
});

test.run();
