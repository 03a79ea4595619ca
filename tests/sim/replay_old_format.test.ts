/**
 * A recording made before issue 34 renamed the collapse and coherence bodies' fields (format 1,
 * camelCase) still replays and verifies with today's actors, which publish format 2 (snake_case);
 * and an incident journal of such events still gives the same findings. The fixture was recorded by
 * tests/sim/fixtures/record_event_session.ts on commit c9fecdc, with issue 29's coherence baseline
 * (actors/coherence/kernel.ts's updateShift and _clipped_normal.ts, the sd held through a long
 * episode included) applied there, so that today's coherence outputs verify (1 coherence event of
 * 87 outputs: the shift's baseline waits for a mature covariance; 4 of 90 before that, 2 of 88
 * before the baseline).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { incidentFindingOf } from "../../actors/incidents/mod.ts";
import { collapseOf, decodeEnvelope, type Envelope } from "../../protocol/mod.ts";
import { replay } from "../../sim/recording/mod.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("replay of a format-1 recording");
const FIXTURE = fileURLToPath(new URL("./fixtures/format1_events.rec", import.meta.url));

async function events(type: string): Promise<Envelope[]> {
  return (await readRecords(FIXTURE))
    .filter((m) => m.subject.startsWith("troupe.out."))
    .map((m) => decodeEnvelope(m.data))
    .filter((e) => e.type === type);
}

test("the fixture holds format-1 bodies: camelCase collapse and coherence fields", async () => {
  const collapses = await events("collapse"), coherences = await events("coherence");
  assert.is(collapses.length, 28);
  assert.is(coherences.length, 1);
  assert.ok(collapses.every((e) => "changeTs" in (e.body as object)));
  assert.ok(coherences.every((e) => "topChannels" in (e.body as object)));
});

test("replay --verify finds every output equal, the format-1 events once written in today's format", async () => {
  const r = await replay(FIXTURE, { verify: true });
  assert.equal(r.kinds, ["collapse", "coherence"]);
  const v = r.verify!;
  assert.ok(v.ok, JSON.stringify(v));
  assert.is(v.equal, 87);
  assert.is(v.different, 0);
  assert.is(v.olderFormat, 29);
});

test("a journal of format-1 collapse events gives findings about the moment each change began", async () => {
  const records = (await readRecords(FIXTURE)).filter((m) =>
    m.subject.startsWith("troupe.out.collapse.")
  );
  const findings = records.map((m) => incidentFindingOf(m.data)).filter((f) => f !== undefined);
  assert.is(findings.length, 28);
  const changes = (await events("collapse")).map((e) => collapseOf(e).change_ts);
  assert.equal(findings.map((f) => f.at_us), changes);
  assert.ok(findings.every((f) => f.kind === "collapse" && f.severity >= 1 && f.severity <= 5));
});

test.run();
