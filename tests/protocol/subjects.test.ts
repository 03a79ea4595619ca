import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ctlSubject,
  feedPattern,
  feedSubject,
  outSubject,
  parseSubject,
  ProtocolError,
  subjectMatches,
} from "../../protocol/mod.ts";

const test = suite("subjects");

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

test.run();
