import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ALL_SUBJECTS,
  areaPattern,
  areaPrefix,
  COLLAB_JOURNAL_SUBJECT_PREFIX,
  collabSubject,
  ctlSubject,
  dlqSubject,
  feedPattern,
  feedSubject,
  FINDINGS_PATTERN,
  findingSubject,
  JOURNAL_SUBJECT_PREFIX,
  journaledSilencesSubject,
  outPrefix,
  outSubject,
  parseCollabSubject,
  parseFindingSubject,
  parseScanSubject,
  parseSubject,
  ProtocolError,
  RECORDED_SUBJECTS,
  reqSubject,
  SCAN_WORK_SUBJECT,
  scanPartitionWorkSubject,
  scanPattern,
  scanSubject,
  scanSymbolsSubject,
  subjectMatches,
  sysSubject,
} from "../../protocol/mod.ts";

const test = suite("subjects");

test("findingSubject() and parseFindingSubject() round-trip troupe.finding.<kind>.<channel>", () => {
  const s = findingSubject("collapse", "BTC-USD");
  assert.is(s, "troupe.finding.collapse.BTC-USD");
  assert.equal(parseFindingSubject(s), { kind: "collapse", channel: "BTC-USD" });
  assert.ok(subjectMatches(FINDINGS_PATTERN, s));
  assert.not.ok(subjectMatches(FINDINGS_PATTERN, outSubject("collapse", "BTC-USD")));
  assert.is(parseFindingSubject(outSubject("collapse", "BTC-USD")), undefined);
  assert.is(parseFindingSubject("troupe.finding.collapse"), undefined);
  assert.throws(() => findingSubject("anomaly", "a.b"), /channel name "a\.b"/);
  assert.throws(() => findingSubject("an*", "BTC"), /finding kind name "an\*"/);
});

test("journaledSilencesSubject() is a session's subject in the findings stream", () => {
  const s = journaledSilencesSubject("main");
  assert.is(s, "troupe.finding.silences.main");
  assert.ok(subjectMatches(FINDINGS_PATTERN, s));
  assert.throws(() => journaledSilencesSubject("a.b"), /channel name "a\.b"/);
});

test("feedPattern() builds troupe.feed.<feed>.* and refuses a feed that is not a name", () => {
  assert.is(feedPattern("market"), "troupe.feed.market.*");
  assert.throws(() => feedPattern("a.b"), /a\.b/);
});

test("feedSubject() builds troupe.feed.<feed>.<channel> and parseSubject() reads it back", () => {
  const s = feedSubject("market", "BTC-USD");
  assert.is(s, "troupe.feed.market.BTC-USD");
  assert.equal(parseSubject(s), { kind: "feed", feed: "market", channel: "BTC-USD" });
  assert.equal(parseSubject(outSubject("stats", "cpu_7")), {
    kind: "out",
    actor: "stats",
    key: "cpu_7",
  });
  assert.equal(parseSubject(ctlSubject("anomaly")), {
    kind: "ctl",
    actor: "anomaly",
    key: undefined,
  });
});

test("feedSubject() rejects channel names with dots, wildcards, spaces or over 64 characters", () => {
  for (const bad of ["a.b", "*", ">", "a b", "", "x".repeat(65), "é"]) {
    assert.throws(() => feedSubject("market", bad), (e: unknown) => e instanceof ProtocolError);
  }
  assert.is(feedSubject("m", "x".repeat(64)).length, "troupe.feed.m.".length + 64);
});

test("subjectMatches() follows NATS wildcard rules", () => {
  assert.ok(subjectMatches("troupe.feed.*.*", "troupe.feed.market.A"));
  assert.ok(subjectMatches("troupe.feed.>", "troupe.feed.market.A"));
  assert.ok(!subjectMatches("troupe.feed.>", "troupe.feed"));
  assert.ok(!subjectMatches("troupe.feed.*", "troupe.feed.market.A"));
  assert.ok(subjectMatches("troupe.*.market.A", "troupe.feed.market.A"));
  assert.ok(!subjectMatches("troupe.feed.market", "troupe.feed.market.A"));
  assert.ok(subjectMatches("a", "a"));
  assert.ok(!subjectMatches("a.b", "a"));
});

test("scanSubject() and parseScanSubject() round-trip a scan's chunk and results subjects", () => {
  for (const part of ["chunk", "results"] as const) {
    const subject = scanSubject("a1b2", part);
    assert.is(subject, `troupe.scan.a1b2.${part}`);
    assert.equal(parseScanSubject(subject), { scanId: "a1b2", part });
    assert.ok(subjectMatches(scanPattern(part), subject));
  }
  assert.is(parseScanSubject("troupe.scan.work"), undefined);
  assert.is(parseScanSubject("troupe.scan.a1.other"), undefined);
  assert.throws(() => scanSubject("a.b", "chunk"), (e: Error) => e instanceof ProtocolError);
  assert.is(scanPartitionWorkSubject(3), `${SCAN_WORK_SUBJECT}.p.3`);
  assert.is(scanSymbolsSubject(0), "troupe.scan.symbols.0");
  assert.throws(() => scanSymbolsSubject(-1), (e: Error) => e.message.includes("-1"));
});

test("collabSubject() and parseCollabSubject() round-trip a session; other subjects are not one", () => {
  assert.is(collabSubject("ops-1"), "troupe.collab.ops-1");
  assert.is(parseCollabSubject(collabSubject("ops-1")), "ops-1");
  assert.is(parseCollabSubject("troupe.collab.ops.digest"), undefined);
  assert.is(parseCollabSubject("troupe.sys.collab.ops"), undefined);
  assert.throws(() => collabSubject("a b"), (e: Error) => e instanceof ProtocolError);
});

test("areaPattern() and areaPrefix() cover an area's subjects, ALL_SUBJECTS every one", () => {
  assert.is(areaPattern("out"), "troupe.out.>");
  assert.ok(subjectMatches(areaPattern("out"), outSubject("anomaly", "BTC")));
  assert.ok(outSubject("anomaly", "BTC").startsWith(areaPrefix("out")));
  assert.not.ok(subjectMatches(areaPattern("dlq"), outSubject("anomaly", "BTC")));
  assert.ok(outSubject("incident", "anomaly").startsWith(outPrefix("incident")));
  assert.not.ok(outSubject("incidents", "anomaly").startsWith(outPrefix("incident")));
  assert.throws(() => outPrefix("a.b"), /Invalid actor name "a\.b"/);
  assert.ok(subjectMatches(ALL_SUBJECTS, collabSubject("s")));
});

test("RECORDED_SUBJECTS match every troupe subject but the requests', each by one pattern", () => {
  const recorded = (subject: string) => RECORDED_SUBJECTS.filter((p) => subjectMatches(p, subject));
  for (
    const subject of [
      feedSubject("market", "BTC"),
      outSubject("anomaly", "BTC"),
      findingSubject("anomaly", "BTC"),
      ctlSubject("stats"),
      dlqSubject("decode"),
      sysSubject("health"),
      scanSubject("s1", "chunk"),
      collabSubject("ops"),
      `${JOURNAL_SUBJECT_PREFIX}.stats.BTC`,
      `${COLLAB_JOURNAL_SUBJECT_PREFIX}.ops`,
    ]
  ) assert.is(recorded(subject).length, 1, subject);
  assert.equal(recorded(reqSubject("incidents", "list")), []);
  assert.equal(recorded(reqSubject("collab", "ops")), []);
});

test("reqSubject() builds troupe.req.<topic>..., outside troupe.sys.> and every other area", () => {
  assert.is(reqSubject("collab", "ops"), "troupe.req.collab.ops");
  assert.is(areaPattern("req"), "troupe.req.>");
  assert.ok(subjectMatches(areaPattern("req"), reqSubject("incidents", "list")));
  assert.not.ok(subjectMatches(areaPattern("sys"), reqSubject("incidents", "list")));
  assert.not.ok(subjectMatches(areaPattern("sys"), reqSubject("collab", "ops")));
  assert.not.ok(subjectMatches(areaPattern("req"), sysSubject("collab", "ops", "digest")));
  assert.throws(() => reqSubject("collab", "a.b"), /Invalid token name "a\.b"/);
});

test.run();
