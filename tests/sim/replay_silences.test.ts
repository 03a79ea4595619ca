/**
 * Silences in a recording: a session's silence table reaches the live incident stage as a control
 * request on `troupe.req.incidents.control`, the recorder keeps it as an input, and `replay
 * --verify` hands it to the replay's own stage, which marks the same incident updates silenced.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import type { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import {
  decodeEnvelope,
  decodeIncident,
  decodeIncidentControlAnswer,
  encodeIncidentControl,
  type Incident,
  incidentControlSubject,
  parseSilenceMatchers,
} from "../../protocol/mod.ts";
import { replay } from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";
import { recordIncidentSession, SESSION_START_US } from "./_incident_session.ts";

const test = suite("replay_silences");
const dir = tempDir("troupe-replay-silences-");
test.after(() => dir.remove());

/** The silence: every anomaly incident from 15 s to 35 s of event time. */
const SILENCE = {
  id: "s1",
  matchers: parseSilenceMatchers("kind=anomaly"),
  starts_us: SESSION_START_US + 15_000_000,
  ends_us: SESSION_START_US + 35_000_000,
};

type Update = { ts: number; incident: Incident };

/** Sends the silence table, in force from 15 s of event time, and keeps the stage's answer. */
async function sendSilences(bus: InProcessBus, answers: string[]): Promise<void> {
  const ask = encodeIncidentControl(
    { id: "ctl-1", src: "collab", ts: SILENCE.starts_us },
    { type: "silences", session: "main", silences: [SILENCE] },
  );
  const reply = await bus.request(incidentControlSubject(), ask, { timeout: 1000 });
  answers.push(JSON.stringify(decodeIncidentControlAnswer(reply.data)));
}

let session: string;
let updates: Update[];
const answers: string[] = [];
test.before(async () => {
  session = join(dir.path, "live.rec");
  await recordIncidentSession(session, {
    // At step 20, 10 s of event time (the watermark is behind it).
    beforeStep: (step, bus) => step === 20 ? sendSilences(bus, answers) : undefined,
  });
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
