/**
 * Silences in a recording: a session's silence table reaches the live incident stage as a control
 * request on `troupe.req.incidents.control`, the recorder keeps it as an input, and `replay
 * --verify` hands it to the replay's own stage, which marks the same incident updates silenced.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ACTOR_KINDS, defaultIncidentConfig, runIncidentStage } from "../../actors/mod.ts";
import { Host } from "../../actors/runtime/host.ts";
import { InProcessBus } from "../../actors/runtime/in_process_bus.ts";
import { MemoryJournal } from "../../actors/runtime/memory_journal.ts";
import { MemorySnapshotStore } from "../../actors/runtime/memory_snapshot_store.ts";
import {
  decodeEnvelope,
  decodeIncident,
  decodeIncidentControlAnswer,
  encodeFrame,
  encodeIncidentControl,
  feedSubject,
  type Incident,
  incidentControlSubject,
  parseSilenceMatchers,
} from "../../protocol/mod.ts";
import { createMarketFeed } from "../../sim/feeds/mod.ts";
import { demoActorConfigs } from "../../sim/mod.ts";
import { Recorder, replay } from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("replay_silences");
const dir = tempDir("troupe-replay-silences-");
test.after(() => dir.remove());

const START_US = 1_704_067_200_000_000;
const INTERVAL_US = 10_000;
const KINDS = ["anomaly", "collapse"];
/** The silence: every anomaly incident from 15 s to 35 s of event time. */
const SILENCE = {
  id: "s1",
  matchers: parseSilenceMatchers("kind=anomaly"),
  starts_us: START_US + 15_000_000,
  ends_us: START_US + 35_000_000,
};

type Update = { ts: number; incident: Incident };

/** A recorded live session (8 symbols with crashes) whose silence table is sent at step 20. */
async function recordSession(path: string, answers: string[]) {
  const bus = new InProcessBus();
  const demo = demoActorConfigs(INTERVAL_US);
  const config = Object.fromEntries(KINDS.map((k) => [k, demo[k] ?? {}]));
  let now = START_US;
  const rec = Recorder.start(bus, {
    path,
    header: { source: "test", config: { actors: config, incidents: defaultIncidentConfig } },
    clock: { now: () => (now += 1000) },
  });
  const host = new Host({
    hostId: "live",
    bus,
    actors: KINDS.map((k) => ACTOR_KINDS[k]!),
    config,
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  const feed = createMarketFeed({
    symbols: 8,
    seed: 3,
    batch: 50,
    volume: false,
    startUs: START_US,
    intervalUs: INTERVAL_US,
    crashRate: 1e-3,
  });
  for (let step = 0; step < 120; step++) {
    if (step === 20) {
      // Sent at 10 s of event time (the watermark is behind it), in force from 15 s.
      const ask = encodeIncidentControl(
        { id: "ctl-1", src: "collab", ts: SILENCE.starts_us },
        { type: "silences", session: "main", silences: [SILENCE] },
      );
      const reply = await bus.request(incidentControlSubject(), ask, { timeout: 1000 });
      answers.push(JSON.stringify(decodeIncidentControlAnswer(reply.data)));
    }
    for (const f of feed.next()) {
      bus.publish(
        feedSubject("market", f.channel),
        encodeFrame(f, { id: `t:${f.channel}:${f.seq0}`, src: "t" }),
      );
    }
    await bus.flush();
  }
  await host.stop();
  await bus.flush();
  stage.stop();
  return rec.stop();
}

let session: string;
let updates: Update[];
const answers: string[] = [];
test.before(async () => {
  session = join(dir.path, "live.rec");
  await recordSession(session, answers);
  updates = (await readRecords(session))
    .filter((m) => m.subject.startsWith("troupe.out.incident."))
    .map((m) => ({ ts: decodeEnvelope(m.data).ts, incident: decodeIncident(m.data).incident }));
});

test("the live stage takes the table and marks anomaly incidents silenced while it is in force", () => {
  assert.is(answers.length, 1);
  assert.match(answers[0]!, '"ok":true');
  assert.match(answers[0]!, "1 silence(s) of session main");
  const silenced = updates.filter((u) => u.incident.silenced);
  assert.ok(silenced.length > 0, "some updates are marked silenced");
  for (const u of silenced) {
    assert.is(u.incident.kind, "anomaly");
    assert.ok(
      u.ts >= SILENCE.starts_us && u.ts < SILENCE.ends_us,
      `update at ${u.ts} in the window`,
    );
  }
  const anomalyOutside = updates.filter((u) =>
    u.incident.kind === "anomaly" && (u.ts < SILENCE.starts_us || u.ts >= SILENCE.ends_us)
  );
  assert.ok(anomalyOutside.length > 0, "anomaly updates outside the window");
  assert.ok(anomalyOutside.every((u) => !u.incident.silenced), "none silenced outside it");
  assert.ok(updates.some((u) => u.ts === SILENCE.ends_us), "the expiry unmarks at its own time");
});

test("replay --verify reproduces the silenced incidents bit for bit", async () => {
  const r = await replay(session, { verify: true, threads: 1 });
  assert.ok(r.verify?.ok, JSON.stringify(r.verify?.first));
  const replayed: Update[] = [];
  await replay(session, {
    threads: 1,
    onOutput: (subject, data) => {
      if (!subject.startsWith("troupe.out.incident.")) return;
      replayed.push({ ts: decodeEnvelope(data).ts, incident: decodeIncident(data).incident });
    },
  });
  assert.equal(replayed, updates);
});

test.run();
