/**
 * Incidents in a recording: the incident stage beside a live host publishes its updates on the
 * bus, the recorder keeps them with everything else, and `replay --verify` runs a stage of its own
 * over the replayed findings and compares its updates with the recorded ones.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { legacyIncidentConfig } from "../../actors/incidents/mod.ts";
import {
  decodeIncident,
  encodeIncident,
  encodeProgressMark,
  type Incident,
  progressSubject,
} from "../../protocol/mod.ts";
import { RecordingReader, RecordingWriter, replay } from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";
import { recordIncidentSession, SESSION_START_US } from "./_incident_session.ts";

const test = suite("replay_incidents");
const dir = tempDir("troupe-replay-incidents-");
test.after(() => dir.remove());

let session: string;
let incidents: Incident[];
test.before(async () => {
  session = join(dir.path, "live.rec");
  await recordIncidentSession(session);
  incidents = (await readRecords(session))
    .filter((m) => m.subject.startsWith("troupe.out.incident."))
    .map((m) => decodeIncident(m.data).incident);
});

test("a live session's recording holds its incidents, one with several members", () => {
  assert.ok(incidents.length > 0, "incident updates recorded");
  const widest = Math.max(...incidents.map((i) => i.members.length));
  assert.is(widest, 8, "the crash over the 8 symbols is one incident with 8 members");
});

test("replay --verify reproduces the incidents and compares them", async () => {
  const r = await replay(session, { verify: true, threads: 1 });
  assert.ok(r.verify?.ok, JSON.stringify(r.verify?.first));
  assert.ok(r.kinds.includes("anomaly"));
  const replayed: Incident[] = [];
  await replay(session, {
    threads: 1,
    onOutput: (subject, data) => {
      if (subject.startsWith("troupe.out.incident.")) replayed.push(decodeIncident(data).incident);
    },
  });
  assert.equal(replayed, incidents);
});

test("replay --verify names an incident that differs from the recorded one", async () => {
  const changed = join(dir.path, "changed.rec");
  const reader = await RecordingReader.open(session);
  const w = RecordingWriter.create(changed, { ...reader.header, source: reader.header.source });
  let done = false;
  for (const m of await readRecords(session)) {
    let data = m.data;
    if (!done && m.subject.startsWith("troupe.out.incident.")) {
      const { envelope, incident } = decodeIncident(m.data);
      data = encodeIncident(envelope, {
        ...incident,
        peak_severity: incident.peak_severity === 5 ? 4 : 5,
      });
      done = true;
    }
    w.append(m.subject, m.tUs, data, m.headers);
  }
  w.close();
  const r = await replay(changed, { verify: true, threads: 1 });
  assert.is(r.verify?.ok, false);
  assert.match(r.verify?.first?.subject ?? "", /^troupe\.out\.incident\./);
  assert.match(r.verify?.first?.detail ?? "", /peak_severity/);
});

test("a recording made before the grouping window rule (no member_joins) verifies under the old rule", async () => {
  // Its header holds every setting of its day but member_joins: the stage ran the old rule (a
  // member channel's finding joins its open incident whatever the window), and replay reads the
  // header over the old settings, so --verify compares like with like.
  const old = join(dir.path, "old.rec");
  const { member_joins: _, ...header } = legacyIncidentConfig;
  await recordIncidentSession(old, { stageConfig: legacyIncidentConfig, headerConfig: header });
  const r = await replay(old, { verify: true, threads: 1 });
  assert.ok(r.verify?.ok, JSON.stringify(r.verify?.first));
  // Read with today's rule over its 5 s window, the same findings make other incidents.
  const today = join(dir.path, "old-as-today.rec");
  const reader = await RecordingReader.open(old);
  const config = { ...reader.header.config, incidents: { ...header, member_joins: false } };
  const w = RecordingWriter.create(today, { ...reader.header, config });
  for (const m of await readRecords(old)) w.append(m.subject, m.tUs, m.data, m.headers);
  w.close();
  const differs = await replay(today, { verify: true, threads: 1 });
  assert.is(differs.verify?.ok, false);
  assert.match(differs.verify?.first?.subject ?? "", /^troupe\.out\.incident\./);
});

test("a mark recorded ahead of findings of inputs before it (a host behind its feed) is taken before them in the replay, as live", async () => {
  const path = join(dir.path, "behind.rec");
  // Every 10th step, before the host has applied that step's frames, a source marks event time
  // reached a minute past the step's last sample (idle: the watermark may move there at once, past
  // every open incident's hold), so the stage closes them before those frames' findings come.
  await recordIncidentSession(path, {
    afterFrames: (step, bus) => {
      if (step % 10 !== 9) return;
      const reached = SESSION_START_US + (50 * step + 49) * 10_000 + 60_000_000;
      bus.publish(
        progressSubject("behind"),
        encodeProgressMark({ id: `behind-${step}`, src: "behind", ts: reached }, {
          partitions: [{ partition: 0, reached_us: reached, idle: true }],
          live: false,
        }),
      );
    },
  });
  const r = await replay(path, { verify: true, threads: 1 });
  assert.ok(r.verify?.ok, JSON.stringify(r.verify?.first));
});

test("a header that names no kinds: the outputs' kinds are replayed, the stage's not taken for one", async () => {
  const path = join(dir.path, "no-kinds.rec");
  await recordIncidentSession(path, { headerActors: false });
  const r = await replay(path, { threads: 1 });
  assert.equal([...r.kinds].sort(), ["anomaly", "collapse"]);
  assert.equal(r.skippedKinds, [], "the incidents' subject names no actor kind");
});

test.run();
