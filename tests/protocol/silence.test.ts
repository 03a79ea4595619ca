import { suite } from "uvu";
import * as assert from "uvu/assert";
import { throwsOn } from "../_support/throws_on.ts";
import {
  ANOMALY_FINDING,
  areaPattern,
  COHERENCE_FINDING,
  COLLAPSE_FINDING,
  ctlSubject,
  decodeIncidentControl,
  decodeIncidentControlAnswer,
  encodeEnvelope,
  encodeIncidentControl,
  encodeIncidentControlAnswer,
  formatSilenceMatchers,
  globMatches,
  type Incident,
  incidentControlSubject,
  isIncidentControlSubject,
  parseSilenceMatchers,
  ProtocolError,
  RECORDED_SUBJECTS,
  registerFindingKind,
  type Silence,
  silenceActive,
  silenceMatches,
  subjectMatches,
} from "../../protocol/mod.ts";

// The kinds of finding a host of troupe's own kinds knows (actors/ registers them there).
for (const f of [ANOMALY_FINDING, COLLAPSE_FINDING, COHERENCE_FINDING]) registerFindingKind(f);

const test = suite("silence");

function incident(kind: string, channels: string[]): Incident {
  return {
    id: `${kind}-1-${channels[0]}`,
    kind,
    state: "firing",
    fired: true,
    silenced: false,
    members: channels.map((channel) => ({
      channel,
      first_us: 1,
      last_us: 1,
      findings: 1,
      peak_severity: 3,
    })),
    first_us: 1,
    last_us: 1,
    first_finding: "f1",
    last_finding: "f1",
    findings: channels.length,
    peak_severity: 3,
    links: [],
  };
}

function throwsField(fn: () => unknown, field: string, text: string): void {
  throwsOn(ProtocolError, fn, field, text);
}

test("parseSilenceMatchers() reads Alertmanager-style terms and formats them back", () => {
  const m = parseSilenceMatchers("  kind=anomaly   channel=~SYM00* channel!=SYM003 ");
  assert.equal(m, [
    { label: "kind", op: "=", value: "anomaly" },
    { label: "channel", op: "=~", value: "SYM00*" },
    { label: "channel", op: "!=", value: "SYM003" },
  ]);
  assert.is(formatSilenceMatchers(m), "kind=anomaly channel=~SYM00* channel!=SYM003");
  assert.equal(parseSilenceMatchers(["kind!~coh*"]), [{ label: "kind", op: "!~", value: "coh*" }]);
});

test("parseSilenceMatchers() refuses a malformed term naming the field and the term", () => {
  throwsField(() => parseSilenceMatchers("kind:anomaly"), "matchers", '"kind:anomaly"');
  throwsField(() => parseSilenceMatchers("host=a"), "matchers", "labels kind, channel");
  throwsField(
    () => parseSilenceMatchers("channel=SYM.1", "x.matchers"),
    "x.matchers",
    '"channel=SYM.1"',
  );
  throwsField(
    () => parseSilenceMatchers("kind=anomally"),
    "matchers",
    "anomaly, collapse, coherence",
  );
  throwsField(() => parseSilenceMatchers("channel=~(a|b)"), "matchers", "* ?");
  // A glob written with = or != (as a new user writes channel=SYM00*) says which operator it needs.
  throwsField(() => parseSilenceMatchers("channel=SYM00*"), "matchers", "(channel=~SYM00*)");
  throwsField(() => parseSilenceMatchers("kind!=coh?"), "matchers", "(kind!~coh?)");
  throwsField(() => parseSilenceMatchers("kind==anomaly"), "matchers", "not one of =, !=, =~");
  throwsField(() => parseSilenceMatchers(""), "matchers", "1 to 8 terms");
  throwsField(() => parseSilenceMatchers(Array(9).fill("kind=anomaly")), "matchers", "1 to 8");
});

test("globMatches() takes * as any run and ? as one character", () => {
  assert.ok(globMatches("SYM00*", "SYM001"));
  assert.ok(globMatches("SYM00*", "SYM00"));
  assert.ok(globMatches("*-7", "cpu-7"));
  assert.ok(globMatches("S?M*1", "SYM0001"));
  assert.not.ok(globMatches("SYM00*", "SYM010"));
  assert.not.ok(globMatches("?", ""));
  assert.ok(globMatches("*a*a*a*a*b", "a".repeat(60) + "b"));
  assert.not.ok(globMatches("*a*a*a*a*b", "a".repeat(64)));
});

test("silenceMatches() needs every matcher, and a channel matcher on every member", () => {
  const s: Silence = {
    id: "s1",
    matchers: parseSilenceMatchers("kind=anomaly channel=~SYM00*"),
    starts_us: 10,
    ends_us: 20,
  };
  assert.ok(silenceMatches(s, incident("anomaly", ["SYM001", "SYM002"])));
  assert.not.ok(silenceMatches(s, incident("collapse", ["SYM001"])));
  assert.not.ok(
    silenceMatches(s, incident("anomaly", ["SYM001", "SYM010"])),
    "a crash wider than it",
  );
  assert.ok(
    silenceMatches(
      { ...s, matchers: parseSilenceMatchers("channel!=SYM010") },
      incident("coherence", ["all"]),
    ),
  );
  assert.not.ok(silenceActive(s, 9));
  assert.ok(silenceActive(s, 10));
  assert.ok(silenceActive(s, 19));
  assert.not.ok(silenceActive(s, 20), "an expiry is exclusive");
});

test("encodeIncidentControl() and decodeIncidentControl() round-trip a silence table and an ack", () => {
  const meta = { id: "c1", src: "collab-1", ts: 1_763_900_000_000_000 };
  const silences: Silence[] = [{
    id: "s1",
    matchers: parseSilenceMatchers("kind=anomaly channel=~SYM00*"),
    starts_us: 1_763_900_000_000_000,
    ends_us: 1_763_907_200_000_000,
  }];
  const table = { type: "silences" as const, session: "main", silences };
  const bytes = encodeIncidentControl(meta, table);
  const back = decodeIncidentControl(bytes);
  assert.equal(back.control, table);
  assert.is(back.envelope.ts, meta.ts);
  assert.equal(encodeIncidentControl(meta, back.control), bytes);
  const ack = { type: "ack" as const, session: "main", incident: "anomaly-1-SYM001" };
  assert.equal(decodeIncidentControl(encodeIncidentControl(meta, ack)).control, ack);
  const named = { ...ack, by: "ana" };
  assert.equal(decodeIncidentControl(encodeIncidentControl(meta, named)).control, named);
  assert.throws(
    () => encodeIncidentControl(meta, { ...ack, by: "x".repeat(129) }),
    /"by" must be a string of 1 to 128 characters, got/,
  );
  // A request under troupe.req., which no host's troupe.ctl.> takes, kept by a recording.
  assert.is(incidentControlSubject(), "troupe.req.incidents.control");
  assert.not.ok(subjectMatches(areaPattern("ctl"), incidentControlSubject()));
  assert.ok(RECORDED_SUBJECTS.includes(incidentControlSubject()));
  assert.ok(isIncidentControlSubject(incidentControlSubject()));
  assert.ok(isIncidentControlSubject(ctlSubject("incident")), "as older recordings hold it");
  assert.not.ok(isIncidentControlSubject(ctlSubject("stats")));
});

test("decodeIncidentControl() names the field and value of a bad table", () => {
  const meta = { id: "c1", src: "collab-1", ts: 5 };
  const body = (s: unknown) =>
    encodeEnvelope({ ...meta, type: "silences", body: { session: "main", silences: [s] } });
  const ok = { id: "s1", matchers: "kind=anomaly", starts_us: 1, ends_us: 2 };
  throwsField(
    () => decodeIncidentControl(body({ ...ok, matchers: "kind~x" })),
    "body.silences[0].matchers",
    '"kind~x"',
  );
  throwsField(
    () => decodeIncidentControl(body({ ...ok, ends_us: 1 })),
    "body.silences[0].ends_us",
    "after starts_us",
  );
  throwsField(
    () => decodeIncidentControl(body({ ...ok, id: "a.b" })),
    "body.silences[0].id",
    '"a.b"',
  );
  throwsField(
    () =>
      decodeIncidentControl(encodeEnvelope({ ...meta, type: "mute", body: { session: "main" } })),
    "type",
    '"mute"',
  );
});

test("encodeIncidentControlAnswer() and decodeIncidentControlAnswer() round-trip both answers", () => {
  const meta = { id: "a1", src: "incidents", ts: 1 };
  for (
    const a of [{ ok: true, detail: "2 silences of main" }, {
      ok: false,
      detail: "unknown incident x",
    }]
  ) {
    assert.equal(decodeIncidentControlAnswer(encodeIncidentControlAnswer(meta, a)), a);
  }
  throwsField(
    () =>
      decodeIncidentControlAnswer(encodeEnvelope({ ...meta, type: "ok", body: { applied: 3 } })),
    "body.applied",
    "3",
  );
});

test.run();
