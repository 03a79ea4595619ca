/**
 * A host's periodic rounds of snapshots (snapshot_round.ts) look only at the instances that had
 * inputs since their last snapshot (recovery/_snapshot_due.ts), which the host tells as it applies
 * them: a channel fed once, then idle, is still snapshotted once its last snapshot is
 * `max_age_ms` old, and one fed `min_inputs` times at the next round; on virtual time.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import {
  Host,
  InProcessBus,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { virtualTime } from "../../../_support/virtual_time.ts";

const test = suite("periodic_snapshots");

const T0_US = 1_700_000_000_000_000;

/** Frames `from` to `to` - 1 of `channel`, a sample each. */
function publish(bus: InProcessBus, channel: string, from: number, to: number): void {
  for (let f = from; f < to; f++) {
    const t = Float64Array.of(T0_US + f * 1e6), v = Float64Array.of(f % 7);
    bus.publish(
      feedSubject("t", channel),
      encodeFrame({ channel, seq0: f, t, v }, { id: `${channel}-${f}`, src: "t" }),
    );
  }
}

/** The instances' streams with a snapshot (not the edge's). */
async function snapshotted(store: MemorySnapshotStore): Promise<string[]> {
  return (await store.list()).filter((s) => s.startsWith("stats/")).sort();
}

/** Lets the snapshots' saves (promises) finish. */
const settle = () => new Promise((r) => setTimeout(r, 5));

/** A host of `stats` on virtual time, its snapshots every second in `snapshots`. */
function statsHost(
  bus: InProcessBus,
  snapshots: MemorySnapshotStore,
  time: ReturnType<typeof virtualTime>,
  payoff: { snapshotMinInputs: number; snapshotMaxAgeMs: number; snapshotsPerSliceMax?: number },
): Host {
  return new Host({
    hostId: "h",
    bus,
    actors: [statsActor],
    journal: new MemoryJournal(),
    snapshots,
    timers: time.timers,
    now: time.now,
    snapshotEveryMs: 1_000,
    snapshotEveryInputs: 1_000_000,
    ...payoff,
    log: () => {},
  });
}

test("a channel fed once, then idle, is snapshotted at its age; one fed min_inputs times at the next round", async () => {
  const bus = new InProcessBus();
  const snapshots = new MemorySnapshotStore();
  const time = virtualTime(T0_US / 1000);
  const h = statsHost(bus, snapshots, time, { snapshotMinInputs: 5, snapshotMaxAgeMs: 60_000 });
  await h.start();
  publish(bus, "once", 0, 1);
  publish(bus, "busy", 0, 4);
  await bus.flush();
  time.advance(1_000); // the first round: each one's age starts
  await settle();
  assert.equal(await snapshotted(snapshots), []);
  publish(bus, "busy", 4, 5);
  await bus.flush();
  time.advance(1_000);
  await settle();
  assert.equal(
    await snapshotted(snapshots),
    ["stats/busy"],
    "five inputs: taken at the next round",
  );
  time.advance(58_000);
  await settle();
  assert.equal(await snapshotted(snapshots), ["stats/busy"], "its age 59 s: not yet");
  time.advance(1_000);
  await settle();
  assert.equal(await snapshotted(snapshots), ["stats/busy", "stats/once"], "60 s: its age");
  await h.stop();
});

test("a host of more instances with news than 100 a round takes in its max_age_ms takes more a round: every one is snapshotted within it", async () => {
  const bus = new InProcessBus();
  const snapshots = new MemorySnapshotStore();
  const time = virtualTime(T0_US / 1000);
  const h = statsHost(bus, snapshots, time, {
    snapshotMinInputs: 1,
    snapshotMaxAgeMs: 2_000,
    snapshotsPerSliceMax: 50,
  });
  await h.start();
  // 600 channels with an input each: a turn of 6 s at 100 a round, 2 s (the max age) at 300.
  const channels = Array.from({ length: 600 }, (_, i) => `c${i}`);
  for (const c of channels) publish(bus, c, 0, 1);
  await bus.flush();
  for (let round = 0; round < 2; round++) {
    time.advance(1_000);
    await settle();
  }
  assert.is((await snapshotted(snapshots)).length, channels.length);
  await h.stop();
});

test.run();
