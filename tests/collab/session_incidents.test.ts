import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import {
  checkAck,
  checkSilence,
  INCIDENT_DOC_VALIDATORS,
  SessionIncidents,
  silenceOfEntry,
} from "../../collab/mod.ts";
import { throwsField } from "./_throws_field.ts";

const test = suite("session document: acks and silences");

const NOW = 1_763_900_000_000;
const HOUR = 3_600_000;

test("addSilence() keeps canonical matchers, a start (now by default), who and why, pending the stage", () => {
  const s = new SessionIncidents(new Y.Doc());
  const e = s.addSilence({
    id: "s1",
    matchers: " kind=anomaly   channel=~SYM00*",
    ends_ms: NOW + 2 * HOUR,
    by: "ana",
    reason: "maintenance",
  }, NOW);
  assert.equal(e, {
    id: "s1",
    matchers: "kind=anomaly channel=~SYM00*",
    starts_ms: NOW,
    ends_ms: NOW + 2 * HOUR,
    by: "ana",
    reason: "maintenance",
  });
  assert.is(s.silences.get("s1")!.status, "pending");
  assert.equal(silenceOfEntry(e).starts_us, NOW * 1000);
  assert.equal(silenceOfEntry(e).matchers.length, 2);
  const generated = s.addSilence({
    matchers: "kind=collapse",
    ends_ms: NOW + 1,
    by: "b",
    reason: "r",
  }, NOW);
  assert.match(generated.id, /^[A-Za-z0-9_-]{1,64}$/);
  assert.is(s.silenceList().length, 2);
});

test("addSilence() refuses a malformed matcher or an expiry in the past, naming the field and value; nothing is written", () => {
  const s = new SessionIncidents(new Y.Doc());
  const base = { id: "s1", matchers: "kind=anomaly", ends_ms: NOW + HOUR, by: "ana", reason: "r" };
  throwsField(
    () => s.addSilence({ ...base, matchers: "kind=anomaly chanel=SYM1" }, NOW),
    "silences.s1.matchers",
    '"chanel=SYM1"',
  );
  throwsField(
    () => s.addSilence({ ...base, matchers: "channel=~SYM(1|2)" }, NOW),
    "silences.s1.matchers",
    "SYM(1|2)",
  );
  throwsField(
    () => s.addSilence({ ...base, ends_ms: NOW - 1000 }, NOW),
    "silences.s1.ends_ms",
    String(NOW - 1000),
  );
  throwsField(
    () => s.addSilence({ ...base, ends_ms: NOW + 31 * 24 * HOUR }, NOW),
    "silences.s1.ends_ms",
    "30 days",
  );
  throwsField(() => s.addSilence({ ...base, reason: "" }, NOW), "silences.s1.reason", '""');
  throwsField(() => s.addSilence({ ...base, id: "a b" }, NOW), "silences.a b.id", '"a b"');
  assert.is(s.silences.size, 0);
});

test("endSilence() ends a silence now and keeps it listed; an unknown id is refused naming it", () => {
  const s = new SessionIncidents(new Y.Doc());
  s.addSilence(
    { id: "s1", matchers: "kind=anomaly", ends_ms: NOW + HOUR, by: "ana", reason: "r" },
    NOW,
  );
  const ended = s.endSilence("s1", "bo", NOW + 60_000);
  assert.is(ended.ends_ms, NOW + 60_000);
  assert.is(ended.ended_by, "bo");
  assert.is(s.silences.get("s1")!.ends_ms, NOW + 60_000);
  throwsField(() => s.endSilence("s2", "bo", NOW), "silences.s2", 'No silence "s2"');
  throwsField(() => s.endSilence("s1", "bo", NOW + HOUR), "silences.s1.ends_ms", "not yet ended");
});

test("ack() keeps who, when and a note per incident, pending the stage's check", () => {
  const s = new SessionIncidents(new Y.Doc());
  s.ack({ incident: "anomaly-1-SYM001", by: "ana", at_ms: NOW, note: "looking" });
  assert.equal(s.ackOf("anomaly-1-SYM001"), {
    incident: "anomaly-1-SYM001",
    by: "ana",
    at_ms: NOW,
    note: "looking",
    status: "pending",
  });
  throwsField(
    () => s.ack({ incident: "", by: "ana", at_ms: NOW, note: "" }),
    "acks..incident",
    '""',
  );
  throwsField(() => s.ack({ incident: "x", by: "ana", at_ms: -1, note: "" }), "acks.x.at_ms", "-1");
});

test("INCIDENT_DOC_VALIDATORS check a value as a server would, naming the field", () => {
  const ok = {
    id: "s1",
    matchers: "kind=anomaly",
    starts_ms: NOW,
    ends_ms: NOW + 1,
    by: "a",
    reason: "r",
  };
  assert.equal(INCIDENT_DOC_VALIDATORS.silences("s1", ok), ok);
  throwsField(
    () => INCIDENT_DOC_VALIDATORS.silences("s1", { ...ok, matchers: "x" }),
    "silences.s1.matchers",
    '"x"',
  );
  throwsField(
    () => INCIDENT_DOC_VALIDATORS.acks("i", { incident: "i", by: "a", at_ms: 1, status: "done" }),
    "acks.i.status",
    '"done"',
  );
  assert.equal(checkAck("a", { incident: "i", by: "a", at_ms: 1 }), {
    incident: "i",
    by: "a",
    at_ms: 1,
    note: "",
  });
  throwsField(() => checkSilence("s", ok, NOW + 1), "s.ends_ms", "in the future");
});

test.run();
