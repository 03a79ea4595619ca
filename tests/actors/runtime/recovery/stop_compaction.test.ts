/**
 * A host's stop drops the journal segments its stop's snapshots cover, so that the next start
 * does not read their tables of streams: with no compaction while it ran (its interval longer
 * than the run) and no snapshot before the stop, the journal holds several sealed segments; after
 * the stop only what no snapshot covers is left, and the host started again on what is left
 * recovers every instance exactly as it was.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import { PackedSnapshotStore } from "../../../../actors/runtime/snapshots/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("stop_compaction");

const CHANNELS = 40, FRAMES = 12;

/**
 * A host over a file journal of small segments in `dir`, which neither snapshots nor compacts
 * while it runs.
 */
async function hostIn(dir: string) {
  const bus = new InProcessBus();
  const journal = await FileJournal.open(`${dir}/journal`, {
    fsync: "never",
    segmentBytesMax: 16 * 1024,
  });
  const snapshots = await PackedSnapshotStore.open(`${dir}/snapshots`, { fsync: false });
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    journal,
    snapshots,
    snapshotEveryInputs: 1_000_000,
    compactEveryMs: 3_600_000,
    log: () => {},
    // Its clock stands still: no instance's snapshot comes due before the stop, nor a compaction.
    now: () => 1000,
  });
  await host.start();
  return { bus, journal, snapshots, host };
}

/** Every channel's stats state. */
function states(host: Host): number[][] {
  return Array.from(
    { length: CHANNELS },
    (_, c) => Array.from(host.instance("stats", `m${c}`)!.kernelState as StatsState),
  );
}

test("a stop drops the segments its snapshots cover; the start recovers exactly", async () => {
  const dir = tempDir();
  try {
    const a = await hostIn(dir.path);
    for (let f = 0; f < FRAMES; f++) {
      for (let c = 0; c < CHANNELS; c++) {
        const t = Float64Array.from({ length: 4 }, (_, i) => 1.7e15 + (4 * f + i) * 1e6);
        const v = Float64Array.from({ length: 4 }, (_, i) => c + Math.sin(4 * f + i));
        const frame = { channel: `m${c}`, seq0: 4 * f, t, v };
        a.bus.publish(
          feedSubject("t", `m${c}`),
          encodeFrame(frame, { id: `f-${c}-${f}`, src: "t" }),
        );
      }
      await a.bus.flush();
    }
    const applied = () =>
      Array.from({ length: CHANNELS }, (_, c) => a.host.instance("stats", `m${c}`))
        .every((inst) => inst && statsSummary(inst.kernelState as StatsState).count === 4 * FRAMES);
    const sealed = () => a.journal.segments().filter((s) => s.sealed).length;
    // Rolled segments are sealed (indexed, closed) in the background: on a loaded machine later.
    for (let i = 0; i < 250 && !(applied() && sealed() >= 3); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(sealed() >= 3, `sealed segments before the stop: ${sealed()}`);
    const expected = states(a.host);
    assert.ok(applied(), "every frame applied before the stop");
    await a.host.stop();
    assert.is(sealed(), 0, "the segments the stop's snapshots cover are dropped");
    await a.journal.close();
    await a.snapshots.close();

    const b = await hostIn(dir.path);
    assert.equal(states(b.host), expected);
    await b.host.stop();
    await b.journal.close();
    await b.snapshots.close();
  } finally {
    dir.remove();
  }
});

test.run();
