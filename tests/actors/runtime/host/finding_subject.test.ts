/**
 * Where a host publishes a finding: once, on `troupe.finding.<kind>.<channel>` with its id as
 * `Nats-Msg-Id` (where the findings stream journals it and every reader takes it), and not on its
 * actor's `troupe.out.<kind>.<key>`, which carries the per-sample outputs. Counted on the
 * in-process bus and on a real nats-server, over every troupe subject.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyActor } from "../../../../actors/anomaly/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { InProcessBus, NatsBus } from "../../../../actors/runtime/mod.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import {
  ALL_SUBJECTS,
  type Bus,
  COLUMNS_TYPE,
  decodeEnvelope,
  encodeFrame,
  feedSubject,
  findingSubject,
  outSubject,
  PROGRESS_PATTERN,
  subjectMatches,
} from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { haveNatsServer, startTestNats } from "../../../_support/nats.ts";

const test = suite("finding_subject");

interface Seen {
  subject: string;
  id: string;
  type: string;
  msgId: string | undefined;
}

/** Runs an anomaly host on `bus` over a quiet feed and then a jump; every troupe message seen. */
async function run(bus: Bus): Promise<Seen[]> {
  const seen: Seen[] = [];
  bus.subscribe(ALL_SUBJECTS, (m) => {
    const findingArea = m.subject.startsWith("troupe.finding.");
    if (!m.subject.startsWith("troupe.out.") && !findingArea) return;
    // The host's progress marks share the findings' area (and stream): counted apart.
    if (subjectMatches(PROGRESS_PATTERN, m.subject)) return;
    const env = decodeEnvelope(m.data);
    seen.push({
      subject: m.subject,
      id: env.id,
      type: env.type,
      msgId: m.headers?.["Nats-Msg-Id"],
    });
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
  const frames = () => seen.filter((s) => s.type === COLUMNS_TYPE).length;
  for (let i = 0; i < 200 && frames() < 12; i++) {
    await bus.flush();
    await new Promise((r) => setTimeout(r, 25));
  }
  await host.stop();
  await bus.flush();
  return seen;
}

/** Checks that each finding in `seen` came once, on its finding subject, with its id. */
function checkOnce(seen: Seen[]): void {
  const findings = seen.filter((s) => s.type === "anomaly");
  assert.ok(findings.length > 0, "the jump makes an anomaly finding");
  const perId = new Map<string, number>();
  for (const f of findings) perId.set(f.id, (perId.get(f.id) ?? 0) + 1);
  assert.equal([...perId.values()], findings.map(() => 1), "one message per finding");
  assert.equal(
    findings.map((f) => f.subject),
    findings.map(() => findingSubject("anomaly", "BTC")),
  );
  assert.equal(findings.map((f) => f.msgId), findings.map((f) => f.id));
  const columns = seen.filter((s) => s.type === COLUMNS_TYPE);
  assert.is(columns.length, 12, "each frame's per-sample outputs");
  assert.equal(columns.map((c) => c.subject), columns.map(() => outSubject("anomaly", "BTC")));
  assert.is(seen.length, findings.length + columns.length, "nothing else on out or finding");
}

test("a host publishes each finding once, on troupe.finding.<kind>.<channel> with its id, and its per-sample outputs on troupe.out", async () => {
  const bus = new InProcessBus();
  checkOnce(await run(bus));
  await bus.close();
});

if (haveNatsServer("a finding's messages on NATS")) {
  test("on a real nats-server, each finding is one message over every troupe subject", async () => {
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url);
    try {
      checkOnce(await run(bus));
    } finally {
      await bus.close();
      await nats.cleanup();
    }
  });
}

test.run();
