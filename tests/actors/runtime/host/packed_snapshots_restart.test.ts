/**
 * A host on the packed snapshot store (snapshots/packed_snapshot_store.ts): snapshots taken
 * often enough that its segments roll and are compacted while it runs, then a stop and a start
 * that rebuilds every instance equal to the first host's, and to a replay of the whole journal.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { statsActor, type StatsState } from "../../../../actors/stats/mod.ts";
import {
  FileJournal,
  Host,
  InProcessBus,
  MemorySnapshotStore,
  PackedSnapshotStore,
  type SnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { HINT_FILE } from "../../../../actors/runtime/snapshots/_hint_file.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("packed snapshots restart");

const CHANNELS = 30, FRAMES = 40, BATCH = 20;

/** Frame `f` of `channel`, its samples drawn from a generator seeded by both. */
function frameBytes(channel: string, f: number): Uint8Array {
  const rng = new Prng(f * 1000 + channel.length);
  const t = new Float64Array(BATCH), v = new Float64Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    t[i] = 1_700_000_000_000_000 + (f * BATCH + i) * 1000;
    v[i] = 10 + rng.normal();
  }
  return encodeFrame({ channel, seq0: f * BATCH, t, v }, { id: `${channel}-${f}`, src: "test" });
}

async function open(dir: string, snapshots: SnapshotStore) {
  const bus = new InProcessBus();
  const journal = await FileJournal.open(join(dir, "journal"), { fsync: "never" });
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    journal,
    snapshots,
    snapshotEveryInputs: 3,
    log: () => {},
  });
  await host.start();
  // A host does not close its stores (its launcher does): stopped, both are closed here.
  const stop = async () => {
    await host.stop();
    await journal.close();
    await snapshots.close();
  };
  return { bus, host, stop };
}

const channels = Array.from({ length: CHANNELS }, (_, i) => `c${i}`);

function states(host: Host): number[][] {
  return channels.map((c) => Array.from(host.instance("stats", c)!.kernelState as StatsState));
}

test("a host restarts from packed snapshots, its segments rolled and compacted, exactly", async () => {
  const dir = tempDir();
  const snapDir = join(dir.path, "snapshots");
  const packed = () => PackedSnapshotStore.open(snapDir, { fsync: false, segmentBytes: 16_384 });
  try {
    const a = await open(dir.path, await packed());
    for (let f = 0; f < FRAMES; f++) {
      for (const c of channels) a.bus.publish(feedSubject("test", c), frameBytes(c, f));
      await a.bus.flush();
    }
    const before = states(a.host);
    await a.stop();
    assert.ok(existsSync(join(snapDir, HINT_FILE)), "a clean stop leaves the store's hint file");
    const segments = readdirSync(snapDir).filter((n) => n.endsWith(".pack"));
    // ~13 snapshots a channel of ~700 bytes: ~17 segments of 16 KiB written, most compacted.
    assert.ok(segments.length >= 2 && segments.length <= 8, `segments: ${segments.join(", ")}`);
    assert.not.ok(segments.includes("snapshots-0.pack"), "the first segment compacted away");

    const b = await open(dir.path, await packed());
    assert.equal(states(b.host), before, "rebuilt from the packed snapshots");
    const replayed = Number(
      /^troupe_recovery_inputs\{host="h1"\} (\d+)$/m.exec(await b.host.metrics.text())?.[1],
    );
    assert.ok(replayed < CHANNELS * 3, `${replayed} inputs replayed past the snapshots`);
    await b.stop();

    const c = await open(dir.path, new MemorySnapshotStore());
    assert.equal(states(c.host), before, "the same as a replay of the whole journal");
    await c.stop();
  } finally {
    dir.remove();
  }
});

test.run();
