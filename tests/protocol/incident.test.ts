import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  compareIncidentProgress,
  decodeIncident,
  decodeIncidentList,
  encodeEnvelope,
  encodeIncident,
  encodeIncidentList,
  type Incident,
  incidentListSubject,
  incidentSubject,
  parseSubject,
  ProtocolError,
} from "../../protocol/mod.ts";

const test = suite("incident");

function crash(): Incident {
  return {
    id: "anomaly-1763900000000000-SYM001",
    kind: "anomaly",
    state: "firing",
    fired: true,
    silenced: false,
    members: ["SYM001", "SYM002", "SYM003"].map((channel, i) => ({
      channel,
      first_us: 1763900000000000 + i * 1000,
      last_us: 1763900000500000 + i,
      findings: 1 + i,
      peak_severity: 3 + (i % 3),
    })),
    first_us: 1763900000000000,
    last_us: 1763900000500002,
    first_finding: "f1:anomaly:SYM001:0",
    last_finding: "f9:anomaly:SYM003:0",
    findings: 6,
    peak_severity: 5,
    links: ["collapse-1763900000100000-SYM001"],
  };
}

const META = { id: "anomaly-1763900000000000-SYM001:2", src: "incidents", ts: 1763900000500002 };

test("encodeIncident() and decodeIncident() round-trip an incident and its envelope", () => {
  const bytes = encodeIncident(META, crash());
  const { envelope, incident } = decodeIncident(bytes);
  assert.equal(incident, crash());
  assert.is(envelope.type, "incident");
  assert.is(envelope.id, META.id);
  assert.is(envelope.ts, META.ts);
  assert.equal(encodeIncident(META, incident), bytes);
});

test("encodeIncidentList() and decodeIncidentList() round-trip; a bad member is named by its place", () => {
  const two = [crash(), { ...crash(), id: "collapse-1-SYM001", kind: "collapse", links: [] }];
  assert.equal(decodeIncidentList(encodeIncidentList(META, two)), two);
  assert.equal(decodeIncidentList(encodeIncidentList(META, [])), []);
  const bad = encodeEnvelope({
    ...META,
    type: "incidents",
    body: { incidents: [crash(), { ...crash(), state: "done" }] },
  });
  try {
    decodeIncidentList(bad);
    assert.unreachable("refused");
  } catch (err) {
    assert.is((err as ProtocolError).field, "body.incidents[1].state");
    assert.match((err as Error).message, /"body.incidents\[1\].state" must be one of/);
  }
  assert.is(incidentListSubject(), "troupe.req.incidents.list");
});

test("compareIncidentProgress() orders copies by findings, then last_us, state and links", () => {
  const c = crash();
  const cmp = (a: Partial<Incident>, b: Partial<Incident>) =>
    Math.sign(compareIncidentProgress({ ...c, ...a }, { ...c, ...b }));
  assert.is(cmp({ findings: 7, last_us: 1 }, {}), 1, "a finding more wins over an earlier last_us");
  assert.is(cmp({ last_us: c.last_us + 1 }, {}), 1);
  assert.is(cmp({ state: "resolved" }, {}), 1);
  assert.is(cmp({ state: "pending" }, {}), -1);
  assert.is(cmp({ links: [] }, {}), -1);
  assert.is(cmp({ silenced: true }, {}), 0, "a silenced mark alone is no progress");
});

test("incidentSubject() is troupe.out.incident.<kind>", () => {
  assert.is(incidentSubject("anomaly"), "troupe.out.incident.anomaly");
  assert.equal(parseSubject(incidentSubject("collapse")), {
    kind: "out",
    actor: "incident",
    key: "collapse",
  });
});

function refusal(body: Record<string, unknown>, type = "incident"): ProtocolError {
  try {
    decodeIncident(encodeEnvelope({ ...META, type, body }));
  } catch (err) {
    assert.instance(err, ProtocolError);
    return err as ProtocolError;
  }
  throw new Error("expected a refusal");
}

test("decodeIncident() names the field and value it refuses", () => {
  const base = crash() as unknown as Record<string, unknown>;
  let err = refusal({ ...base, state: "open" });
  assert.is(err.field, "body.state");
  assert.match(err.message, /"body.state" must be one of pending, firing, resolved, got "open"/);
  err = refusal({ ...base, peak_severity: 0.52 });
  assert.match(err.message, /"body.peak_severity" must be an integer from 1 to 5, got 0.52/);
  const members = [{ ...crash().members[0]!, channel: "a.b" }];
  err = refusal({ ...base, members });
  assert.is(err.field, "body.members[0].channel");
  err = refusal({ ...base, first_us: Number.NaN });
  assert.is(err.field, "body.first_us");
  err = refusal(base, "anomaly");
  assert.match(err.message, /"type" must be "incident", got "anomaly"/);
  const { links: _links, ...noLinks } = base;
  err = refusal(noLinks);
  assert.is(err.reason, "field");
  assert.is(err.field, "body.links");
});

test("a member's peak round-trips, is left out when absent, and a bad one is named by its field", () => {
  const withPeak = crash();
  withPeak.members[0]!.peak = { measure: 0.93, value: 1000, expected: 100, lower: 95, upper: 105 };
  withPeak.members[1]!.peak = { measure: 2.5 };
  const bytes = encodeIncident(META, withPeak);
  assert.equal(decodeIncident(bytes).incident, withPeak);
  assert.equal(encodeIncident(META, decodeIncident(bytes).incident), bytes);
  assert.is(decodeIncident(bytes).incident.members[2]!.peak, undefined);
  // Without peaks, the bytes an incident always had.
  assert.ok(encodeIncident(META, crash()).length < bytes.length);
  const bad = crash() as unknown as { members: Array<Record<string, unknown>> };
  bad.members[1]!.peak = { measure: 1, upper: "high" };
  try {
    decodeIncident(encodeEnvelope({ ...META, type: "incident", body: bad }));
    assert.unreachable("a peak whose upper is a string decodes");
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.is(
      (err as Error).message,
      'Incident field "body.members[1].peak.upper" must be a finite number, got "high"',
    );
  }
});

test.run();
