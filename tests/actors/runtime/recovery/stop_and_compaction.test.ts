/**
 * A stop's snapshots and a compaction in progress: a stop waits for the saves in progress, not
 * for the compaction that follows them. A journal compacted as its host stops (the file journal)
 * has that compaction end first and is compacted once more; one that is not (the JetStream
 * journal, `compactsAtStop: false`) leaves it running, and the stop ends while it still runs.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import {
  type Journal,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/slot.ts";
import { Snapshotter } from "../../../../actors/runtime/recovery/snapshotter.ts";

const test = suite("stop_and_compaction");

/** A stats slot with an input since its last snapshot. */
function slot(key: string): Slot {
  const s = newSlot(statsActor, key, new HostMetrics({ host: "h" }).tally("stats"));
  s.inst = ActorInstance.create(statsActor, key, statsActor.defaultConfig);
  s.inst.sinceSnapshot = 1;
  return s;
}

/** A memory journal whose compactions are counted and each held until `release`. */
function heldJournal(compactsAtStop: boolean | undefined) {
  const inner = new MemoryJournal();
  const held: Array<() => void> = [];
  const journal: Journal = {
    volatile: true,
    ...(compactsAtStop === undefined ? {} : { compactsAtStop }),
    append: (stream, data) => inner.append(stream, data),
    lastPosition: (s) => inner.lastPosition(s),
    streams: () => inner.streams(),
    read: (s, after) => inner.read(s, after),
    readAll: (after) => inner.readAll(after),
    sync: () => inner.sync(),
    stats: () => inner.stats(),
    close: () => inner.close(),
    compact: () => new Promise<void>((resolve) => held.push(resolve)),
  };
  return {
    journal,
    held,
    release: () => held.splice(0).forEach((r) => r()),
  };
}

/** A snapshotter over `journal` whose periodic compaction is due, and its closing switch. */
function snapshotterOver(journal: Journal) {
  const at = { closing: false, nowMs: 3_600_000 };
  const snaps = new Snapshotter({
    journal,
    store: new MemorySnapshotStore(),
    metrics: new HostMetrics({ host: "h" }),
    log: () => {},
    now: () => at.nowMs,
    closing: () => at.closing,
  });
  return { snaps, at };
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(done(), what);
}

/** Whether `p` settles within a few turns of the event loop. */
async function settlesSoon(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  for (let i = 0; i < 20 && !settled; i++) await new Promise((r) => setTimeout(r, 1));
  return settled;
}

/** A periodic save whose compaction is held, then the host stopping: the stop's promise. */
async function stopDuringCompaction(compactsAtStop: boolean | undefined) {
  const j = heldJournal(compactsAtStop);
  const { snaps, at } = snapshotterOver(j.journal);
  const slots = new Map(["a", "b", "c"].map((k) => [`stats/${k}`, slot(k)]));
  snaps.capture(slots.get("stats/a")!);
  await until(() => j.held.length === 1, "the periodic save's compaction began");
  at.closing = true;
  for (const s of slots.values()) s.inst!.sinceSnapshot = 1;
  return { j, snaps, stopping: snaps.stopping(slots) };
}

test("a journal not compacted at a stop: the stop ends while a compaction runs", async () => {
  const { j, snaps, stopping } = await stopDuringCompaction(false);
  assert.ok(await settlesSoon(stopping), "the stop did not wait for the compaction");
  assert.is(j.held.length, 1, "and compacted nothing itself");
  assert.equal([...snaps.savedPos.keys()].sort(), ["stats/a", "stats/b", "stats/c"]);
  j.release();
});

test("a journal compacted at a stop: the compaction in progress ends first, then the stop's", async () => {
  const { j, snaps, stopping } = await stopDuringCompaction(undefined);
  assert.not.ok(await settlesSoon(stopping), "the stop waits for the compaction in progress");
  assert.equal([...snaps.savedPos.keys()].sort(), ["stats/a", "stats/b", "stats/c"]);
  j.release();
  await until(() => j.held.length === 1, "the stop's own compaction began");
  j.release();
  await stopping;
});

test("a flush's saves go on while another flush compacts, and start no second compaction", async () => {
  const j = heldJournal(undefined);
  const { snaps, at } = snapshotterOver(j.journal);
  snaps.capture(slot("a"));
  await until(() => j.held.length === 1, "the first flush's compaction began");
  at.nowMs += 60_000; // a compaction is due again
  snaps.capture(slot("b"));
  const flushed = snaps.flush();
  await until(() => snaps.savedPos.has("stats/b"), "b saved while the compaction is held");
  await settlesSoon(flushed);
  const compactions = j.held.length;
  j.release();
  await flushed;
  assert.is(compactions, 1, "no second compaction while the first runs");
});

test.run();
