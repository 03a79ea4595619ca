/**
 * A host answers a state capture with its instances' snapshots, taken once what was queued before
 * the ask is applied, and the kinds' configurations; an instance restored from one goes on
 * exactly as the live one does.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { requestAll } from "../../../../actors/runtime/control/request_all.ts";
import {
  decodeStateCapturePart,
  encodeFrame,
  encodeStateCaptureAsk,
  feedSubject,
  savedIds,
  stateCaptureSubject,
} from "../../../../protocol/mod.ts";

const test = suite("state capture");

function frame(channel: string, n: number): Uint8Array {
  const t = new Float64Array(5), v = new Float64Array(5);
  for (let i = 0; i < 5; i++) {
    t[i] = 1_700_000_000_000_000 + (n * 5 + i) * 1000;
    v[i] = (n * 7 + i * 3) % 11;
  }
  return encodeFrame({ channel, seq0: n * 5, t, v }, { id: `in-${channel}-${n}`, src: "test" });
}

test("a host answers a state capture with every instance's snapshot and its kinds' settings", async () => {
  const bus = new InProcessBus();
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 10 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  try {
    for (let n = 0; n < 6; n++) bus.publish(feedSubject("test", "a"), frame("a", n));
    for (let n = 0; n < 3; n++) bus.publish(feedSubject("test", "b"), frame("b", n));
    // Asked before those inputs are applied: the answer waits for them.
    const answers = await requestAll(
      bus,
      stateCaptureSubject(),
      encodeStateCaptureAsk({ by: "test", settleMs: 2000 }),
      { timeout: 5000 },
    );
    assert.is(answers.length, 1);
    const part = decodeStateCapturePart(answers[0]!.data);
    assert.is(part.host, "h1");
    assert.equal([part.part, part.parts], [0, 1]);
    assert.equal(part.kinds.stats, {
      version: statsActor.version,
      config: host.instance("stats", "a")!.config,
    });
    assert.equal(part.missed, []);
    const byStream = new Map(part.instances.map((i) => [i.stream, i]));
    assert.equal([...byStream.keys()].sort(), ["stats/a", "stats/b"]);
    const a = byStream.get("stats/a")!;
    assert.equal(
      a.ids.slice(-8),
      savedIds(["in-a-5"]),
      "every input queued before the ask is in it",
    );
    assert.equal(byStream.get("stats/b")!.ids.slice(-8), savedIds(["in-b-2"]));
    assert.equal(a.kernel, host.instance("stats", "a")!.snapshot().kernel);

    // Restored, it goes on as the live instance does.
    const restored = ActorInstance.restore(statsActor, "a", a);
    const live: string[] = [];
    bus.subscribe("troupe.out.stats.a", (m) => live.push(Buffer.from(m.data).toString("hex")));
    const replayed: string[] = [];
    for (let n = 6; n < 10; n++) {
      const bytes = frame("a", n);
      bus.publish(feedSubject("test", "a"), bytes);
      const record = {
        kind: "frame" as const,
        srcPos: 0,
        subject: feedSubject("test", "a"),
        payload: bytes,
      };
      for (const out of restored.apply(record, a.pos + n - 5)) {
        replayed.push(Buffer.from(out.data).toString("hex"));
      }
    }
    await bus.flush();
    await bus.flush();
    assert.ok(live.length >= 2, `outputs ${live.length}`);
    assert.equal(replayed, live);
  } finally {
    await host.stop();
  }
});

test.run();
