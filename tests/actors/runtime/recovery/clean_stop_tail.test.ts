/**
 * A start after a clean stop folds each stream's last input with the rest: the stop (which
 * snapshotted no instance, none having `min_inputs` news) noted those inputs' outputs as published,
 * so no host died on them and no attempt record is written before each (crash_attempts.ts). After
 * a kill (the journal as it stood, no stop) each stream's last input is applied alone after an
 * attempt record, as before. Either way the instances come back as the live host left them.
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
import {
  decodeAttemptRecord,
  decodeInputRecord,
  encodeFrame,
  feedSubject,
} from "../../../../protocol/mod.ts";

const test = suite("recovery after a clean stop");

/** A stats host on `journal` and `snapshots` that snapshots no instance as it stops. */
function host(journal: MemoryJournal, snapshots: MemorySnapshotStore, bus = new InProcessBus()) {
  return new Host({
    hostId: "h",
    bus,
    actors: [statsActor],
    journal,
    snapshots,
    snapshotEveryInputs: 1_000_000,
    snapshotMinInputs: 1_000,
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

/** The attempt records of host h's edge stream: each one's phase and stream. */
function attempts(journal: MemoryJournal): string[] {
  return journal.recordsOf("_edge/h")
    .filter((r) => decodeInputRecord(r.data).kind === "attempt")
    .map((r) => {
      const a = decodeAttemptRecord(r.data);
      return a.phase === "input" ? `input ${a.stream}` : a.phase;
    });
}

/** A copy of `journal` as it holds now, in its append order across streams. */
async function copyOf(journal: MemoryJournal): Promise<MemoryJournal> {
  const copy = new MemoryJournal();
  for await (const rec of journal.readAll()) copy.append(rec.stream, rec.data.slice());
  return copy;
}

test("a restart after a clean stop writes no attempt record; after a kill, one per stream", async () => {
  const journal = new MemoryJournal();
  const snapshots = new MemorySnapshotStore();
  const bus = new InProcessBus();
  const live = host(journal, snapshots, bus);
  await live.start();
  publish(bus, "p", 5);
  publish(bus, "q", 3);
  await bus.flush();
  await bus.flush();
  const state = (h: Host, key: string) =>
    Array.from(h.instance("stats", key)!.kernelState as ArrayLike<number>);
  const before = { p: state(live, "p"), q: state(live, "q") };
  assert.is(live.instance("stats", "q")!.pos, 4, "q's init record and 3 frames");
  const killed = await copyOf(journal);
  await live.stop();
  const instanceSnapshots = (await snapshots.list()).filter((s) => s.startsWith("stats/"));
  assert.equal(instanceSnapshots, [], "the stop snapshotted no instance");

  const again = host(journal, snapshots);
  await again.start();
  assert.equal({ p: state(again, "p"), q: state(again, "q") }, before);
  assert.equal(attempts(journal), [], "no attempt record after a clean stop");
  await again.stop();

  const afterKill = host(killed, new MemorySnapshotStore());
  await afterKill.start();
  assert.equal({ p: state(afterKill, "p"), q: state(afterKill, "q") }, before);
  const got = attempts(killed);
  assert.equal(got.filter((a) => a.startsWith("input ")).sort(), [
    "input stats/p",
    "input stats/q",
  ]);
  assert.is(got[0], "begin");
  assert.is(got.at(-1), "passed");
  await afterKill.stop();
});

test.run();
