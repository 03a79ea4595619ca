/**
 * A simulated disk syncs its journal on an interval where it has one (a static host's file
 * journal: a crash loses what was appended since the last sync) and runs no sync timer where it
 * has none (a leased partition's journal, durable on acknowledgement as JetStream's is); the
 * host's own syncs take the disk's fsync time either way.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeInputRecord } from "../../protocol/mod.ts";
import { Scheduler } from "../../sim/scheduler.ts";
import { SimDisk } from "../../sim/_sim_disk.ts";

const test = suite("simulated disk");

/** A control record of source position `srcPos` (not a frame: no order check to satisfy). */
function record(srcPos: number): Uint8Array {
  return encodeInputRecord({ kind: "ctl", srcPos, subject: "s", payload: new Uint8Array(4) });
}

test("a disk with an fsync interval syncs on it: a crash loses only what came after the last sync", async () => {
  const scheduler = new Scheduler();
  const disk = new SimDisk(scheduler, { fsyncMs: 1, fsyncEveryMs: 20, snapshotMs: 1 }, () => {});
  const handle = disk.open(scheduler.timers());
  assert.is(scheduler.pending, 1, "the interval's timer");
  handle.journal.append("stats/a", record(1));
  await scheduler.run(25_000); // the sync at 20 ms, done at 21 ms
  handle.journal.append("stats/a", record(2));
  handle.journal.append("stats/a", record(3));
  assert.is(disk.crash(true), 2);
  assert.is(disk.journal.lastPosition("stats/a"), 1);
});

test("a disk without an fsync interval runs no timer; a crash loses what no sync covered, and the host's sync takes the fsync time", async () => {
  const scheduler = new Scheduler();
  const disk = new SimDisk(scheduler, {
    fsyncMs: 3,
    fsyncEveryMs: undefined,
    snapshotMs: 1,
  }, () => {});
  const handle = disk.open(scheduler.timers());
  assert.is(scheduler.pending, 0, "no sync timer");
  handle.journal.append("stats/a", record(1));
  let synced = -1;
  void handle.journal.sync().then(() => (synced = scheduler.nowUs));
  await scheduler.run(10_000);
  assert.is(synced, 3_000);
  assert.is(scheduler.pending, 0);
  handle.journal.append("stats/a", record(2));
  assert.is(disk.crash(true), 1);
  assert.is(disk.journal.lastPosition("stats/a"), 1);
});

test.run();
