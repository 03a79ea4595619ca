import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyActor } from "../../../../actors/anomaly/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import {
  decodeEnvelope,
  encodeFrame,
  feedSubject,
  FINDINGS_PATTERN,
  findingSubject,
  outPattern,
} from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("finding_subject");

test("a host publishes each finding again on troupe.finding.<kind>.<channel>, byte for byte, and no per-sample output there", async () => {
  const bus = new InProcessBus();
  const out: Array<{ subject: string; data: Uint8Array; type: string }> = [];
  bus.subscribe(outPattern("anomaly"), (m) => {
    out.push({ subject: m.subject, data: m.data, type: decodeEnvelope(m.data).type });
  });
  const found: Array<{ subject: string; data: Uint8Array; msgId: string | undefined }> = [];
  bus.subscribe(FINDINGS_PATTERN, (m) => {
    found.push({ subject: m.subject, data: m.data, msgId: m.headers?.["Nats-Msg-Id"] });
  });
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [anomalyActor],
    config: { anomaly: {} },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  // A quiet feed, then a jump far outside it: the anomaly actor finds it.
  const rng = new Prng(7);
  for (let f = 0; f < 12; f++) {
    const t = new Float64Array(100);
    const v = new Float64Array(100);
    for (let i = 0; i < 100; i++) {
      t[i] = 1_700_000_000_000_000 + (f * 100 + i) * 1_000_000;
      v[i] = (f >= 10 ? 200 : 100) + rng.normal();
    }
    const frame = { channel: "BTC", seq0: f * 100, t, v };
    bus.publish(feedSubject("test", "BTC"), encodeFrame(frame, { id: `in-${f}`, src: "test" }));
  }
  await bus.flush();
  await bus.flush();
  await host.stop();
  const events = out.filter((o) => o.type === "anomaly");
  assert.ok(events.length > 0, "the jump makes an anomaly finding");
  assert.ok(out.length > events.length, "the per-sample outputs go to the out subject");
  assert.equal(found.map((f) => f.subject), events.map(() => findingSubject("anomaly", "BTC")));
  assert.equal(found.map((f) => f.data), events.map((e) => e.data));
  assert.equal(found.map((f) => f.msgId), events.map((e) => decodeEnvelope(e.data).id));
});

test.run();
