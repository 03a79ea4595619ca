/**
 * Subject patterns compared as patterns: what `troupe record --subjects` accepts, and which two
 * patterns it refuses together because a message could match both.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { isSubjectPattern, patternsOverlap } from "../../protocol/mod.ts";

const test = suite("subject pattern");

test("isSubjectPattern() takes whole-token wildcards and a final >, nothing else", () => {
  for (const ok of ["troupe.feed.>", "troupe.*.x", "a", "a.*.c", ">"]) {
    assert.ok(isSubjectPattern(ok), ok);
  }
  for (const bad of ["", "a..b", "a.>.c", "a.b*", "a.>x", "a. b", "a.b."]) {
    assert.not.ok(isSubjectPattern(bad), bad);
  }
});

test("patternsOverlap() is true where one subject matches both, and symmetric", () => {
  const pairs: Array<[string, string, boolean]> = [
    ["troupe.feed.>", "troupe.*.x", true],
    ["troupe.feed.>", "troupe.out.>", false],
    ["troupe.feed.a", "troupe.feed.a", true],
    ["troupe.feed.a", "troupe.feed.b", false],
    ["troupe.*", "troupe.feed.a", false],
    ["troupe.>", "troupe", false],
    ["troupe.*.*", "troupe.feed.>", true],
    ["a.*", "*.b", true],
  ];
  for (const [a, b, both] of pairs) {
    assert.is(patternsOverlap(a, b), both, `${a} ~ ${b}`);
    assert.is(patternsOverlap(b, a), both, `${b} ~ ${a}`);
  }
});

test.run();
