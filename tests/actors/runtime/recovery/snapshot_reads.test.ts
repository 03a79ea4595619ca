/**
 * A start's reads of snapshots (_snapshot_reads.ts, recovery.ts): it looks only for the snapshots
 * its store lists, not for one per stream of its journal, and reads them a bounded number ahead
 * of their turn rather than one after another; every instance comes back as the stop left it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/mod.ts";
import {
  Host,
  InProcessBus,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { SNAPSHOT_SAVES_IN_FLIGHT_MAX } from "../../../../actors/runtime/recovery/snapshotter.ts";
import { SnapshotReads } from "../../../../actors/runtime/recovery/_snapshot_reads.ts";
import type { RestorableSnapshot } from "../../../../actors/runtime/recovery/restorable_snapshot.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";

const test = suite("a start's reads of snapshots");

/** A stats host that snapshots, as it stops, the instances with 5 inputs or more since. */
function host(journal: MemoryJournal, snapshots: MemorySnapshotStore, bus = new InProcessBus()) {
  return new Host({
    hostId: "h",
    bus,
    actors: [statsActor],
    journal,
    snapshots,
    snapshotEveryInputs: 1_000_000,
    snapshotMinInputs: 5,
    snapshotMaxAgeMs: 1e9,
    log: () => {},
  });
}

/** Frames 0 to `count` - 1 of `channel`, published on `bus`. */
function publish(bus: InProcessBus, channel: string, count: number): void {
  for (let f = 0; f < count; f++) {
    const t = Float64Array.from({ length: 5 }, (_, i) => 1_700_000_000_000_000 + (f * 5 + i) * 1e3);
    const v = t.map((_, i) => Math.sin(f * 5 + i + channel.length));
    bus.publish(
      feedSubject("t", channel),
      encodeFrame({ channel, seq0: f * 5, t, v }, { id: `${channel}-${f}`, src: "t" }),
    );
  }
}

test("a start reads only the listed snapshots, several ahead, and restores every state", async () => {
  const journal = new MemoryJournal();
  const snapshots = new MemorySnapshotStore();
  const bus = new InProcessBus();
  const live = host(journal, snapshots, bus);
  await live.start();
  // Even channels have 6 frames (snapshotted at the stop), odd ones 2 (replayed at the start);
  // made in the reverse of their names' order, so the journal's order of streams is the reverse
  // of the store's listing's: the reads ahead follow the first.
  const n = SNAPSHOT_SAVES_IN_FLIGHT_MAX * 3;
  const channels = Array.from({ length: n }, (_, i) => `c${String(n - i).padStart(3, "0")}`);
  channels.forEach((c, i) => publish(bus, c, i % 2 === 0 ? 6 : 2));
  await bus.flush();
  await bus.flush();
  const state = (h: Host, key: string) =>
    Array.from(h.instance("stats", key)!.kernelState as ArrayLike<number>);
  const before = channels.map((c) => state(live, c));
  await live.stop();
  const listed = (await snapshots.list()).filter((s) => s.startsWith("stats/"));
  assert.equal(
    listed.sort(),
    channels.filter((_, i) => i % 2 === 0).map((c) => `stats/${c}`).sort(),
  );

  const asked: string[] = [];
  let inFlight = 0, most = 0;
  // Listed by name, as a file store lists them (the memory store lists them as saved).
  const list = snapshots.list.bind(snapshots);
  snapshots.list = async () => (await list()).sort();
  const load = snapshots.load.bind(snapshots);
  snapshots.load = async (stream: string) => {
    if (!stream.startsWith("stats/")) return await load(stream); // the edge's, read before
    asked.push(stream);
    most = Math.max(most, ++inFlight);
    // A read that waits, as a file's does: the next ones start meanwhile.
    await new Promise((r) => setTimeout(r, 2));
    inFlight--;
    return await load(stream);
  };
  const again = host(journal, snapshots);
  await again.start();
  assert.equal(asked, [...listed].reverse(), "each stream with a snapshot read once, in turn");
  // The one recovery waits for, and as many again read ahead of their turn.
  assert.is(most, SNAPSHOT_SAVES_IN_FLIGHT_MAX + 1);
  assert.equal(channels.map((c) => state(again, c)), before);
  // Replayed: only what no snapshot covers, the init record and 2 frames of each odd channel.
  const replayed = (await again.metrics.recoveryInputs.get()).values[0]?.value;
  assert.is(replayed, (n / 2) * 3);
  await again.stop();
});

/** A snapshot at `pos`, as a read gives it. */
function snapshotAt(pos: number): RestorableSnapshot {
  return {
    pos,
    srcPos: pos,
    machine: {},
    kernel: new Uint8Array(),
    config: {},
    ids: new Uint8Array(0),
  };
}

test("SnapshotReads reads `ahead` before their turn, each once, and gives each read to its taker", async () => {
  const wanted = Array.from({ length: 10 }, (_, i) => ({ stream: `s/${i}`, version: 1 }));
  const started: string[] = [];
  const from = {
    loadStream: (stream: string) => {
      started.push(stream);
      const i = Number(stream.slice(2));
      return i === 7 ? Promise.reject(new Error(`cannot read ${stream}`)) : (
        Promise.resolve(i % 3 === 0 ? undefined : snapshotAt(i))
      );
    },
  };
  const reads = new SnapshotReads(wanted, { from, ahead: 3 });
  assert.equal(started, ["s/0", "s/1", "s/2"]);
  assert.is(await reads.take("s/0", 1), undefined);
  assert.equal(started, ["s/0", "s/1", "s/2", "s/3"]);
  for (let i = 1; i < 7; i++) assert.is((await reads.take(`s/${i}`, 1))?.pos ?? -1, i % 3 ? i : -1);
  // A failed read (started ahead, not yet taken) is its taker's error.
  await reads.take("s/7", 1).then(
    () => assert.unreachable("s/7 read"),
    (err: Error) => assert.is(err.message, "cannot read s/7"),
  );
  // A stream not read ahead is read when taken.
  assert.is((await reads.take("s/11", 1))?.pos, 11);
  assert.equal(started.length, 10 + 1);
  assert.is(new Set(started).size, started.length, "each read once");
});

test("SnapshotReads gives at once what its source holds in memory, reading ahead only the others", async () => {
  const wanted = Array.from({ length: 8 }, (_, i) => ({ stream: `s/${i}`, version: 1 }));
  const started: string[] = [], now: string[] = [];
  const held = (stream: string) => Number(stream.slice(2)) % 2 === 0; // s/0, s/2, ...
  const from = {
    loadStream: (stream: string) => {
      started.push(stream);
      return Promise.resolve(snapshotAt(Number(stream.slice(2))));
    },
    hasStreamNow: held,
    loadStreamNow: (stream: string) => {
      now.push(stream);
      return snapshotAt(100 + Number(stream.slice(2)));
    },
  };
  const reads = new SnapshotReads(wanted, { from, ahead: 2 });
  assert.equal(started, ["s/1", "s/3"], "those held are not read ahead");
  for (let i = 0; i < 8; i++) {
    const got = reads.takeNow(`s/${i}`, 1);
    if (held(`s/${i}`)) assert.is(got?.pos, 100 + i);
    else {
      assert.is(got, null);
      assert.is((await reads.take(`s/${i}`, 1))?.pos, i);
    }
  }
  assert.equal(now, ["s/0", "s/2", "s/4", "s/6"]);
  assert.equal(started, ["s/1", "s/3", "s/5", "s/7"]);
});

test.run();
