/**
 * Stale markers in a recording: the metrics receiver's `stale` message reaches the live incident
 * stage on `troupe.req.incidents.control`, which ends the open incidents of those channels at the
 * marker's time; the recorder keeps it as an input, and `replay --verify` hands it to the replay's
 * own stage, which ends the same incidents at the same time.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import {
  decodeEnvelope,
  decodeIncident,
  encodeIncidentControl,
  type Incident,
  incidentControlSubject,
} from "../../protocol/mod.ts";
import { replay } from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";
import { recordIncidentSession, SESSION_START_US } from "./_incident_session.ts";

const test = suite("replay_stale");
const dir = tempDir("troupe-replay-stale-");
test.after(() => dir.remove());

/** Every symbol's series went stale at 40 s of event time (its target went away, say). */
const STALE_US = SESSION_START_US + 40_000_000;
const CHANNELS = Array.from({ length: 8 }, (_, i) => `SYM00${i + 1}`);

type Update = { ts: number; incident: Incident };

let session: string;
let updates: Update[];
test.before(async () => {
  session = join(dir.path, "live.rec");
  await recordIncidentSession(session, {
    // At step 60, 30 s of event time: held by the stage until its watermark passes 40 s.
    beforeStep: (step, bus) => {
      if (step !== 60) return undefined;
      bus.publish(
        incidentControlSubject(),
        encodeIncidentControl({ id: "stale-1", src: "remote-write", ts: STALE_US }, {
          type: "stale",
          session: "remote-write",
          channels: CHANNELS,
        }),
      );
      return bus.flush();
    },
  });
  updates = (await readRecords(session))
    .filter((m) => m.subject.startsWith("troupe.out.incident."))
    .map((m) => ({ ts: decodeEnvelope(m.data).ts, incident: decodeIncident(m.data).incident }));
});

test("the live stage ends the incidents open at the marker's time, there and then", () => {
  const ended = updates.filter((u) => u.ts === STALE_US && u.incident.state === "resolved");
  assert.ok(ended.length > 0, "incidents resolved at the stale marker's time");
  for (const u of ended) {
    assert.ok(u.incident.members.every((m) => CHANNELS.includes(m.channel)));
    // Ended by the marker, well before their hold (30 s after their last finding) ran out.
    assert.ok(u.incident.last_us + 30_000_000 > STALE_US, `${u.incident.id} ended early`);
  }
});

test("replay --verify reproduces the ended incidents bit for bit", async () => {
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
