import { suite } from "uvu";
import * as assert from "uvu/assert";
import { throwsOn } from "../_support/throws_on.ts";
import { checkStreamPattern, STREAM_PREFIXES } from "../../collab/mod.ts";
import {
  catchUpSubject,
  incidentListSubject,
  scanSymbolsSubject,
  StreamProtocolError,
  subjectMatches,
} from "../../protocol/mod.ts";

const test = suite("stream patterns");

function throwsNaming(fn: () => unknown, field: string, pattern: RegExp): void {
  throwsOn(StreamProtocolError, fn, field, pattern);
}

test("checkStreamPattern() takes patterns inside the relayed prefixes and refuses others with the reason", () => {
  for (
    const ok of [
      "troupe.out.>",
      "troupe.out.*",
      "troupe.out.anomaly.*",
      "troupe.out.*.BTC",
      "troupe.dlq.>",
      "troupe.sys.health",
      "troupe.scan.*.results",
      "troupe.scan.s1.results",
    ]
  ) assert.is(checkStreamPattern(ok), ok);
  for (
    const no of [
      "troupe.>",
      "troupe.*.anomaly.c1",
      "troupe.feed.m.c1",
      "troupe.ctl.stats",
      "troupe.out",
      "troupe.scan.>",
      "troupe.scan.s1.*",
      "troupe.scan.s1.results.x",
      ">",
    ]
  ) throwsNaming(() => checkStreamPattern(no), "subjects", /outside the relayed subjects/);
  throwsNaming(
    () => checkStreamPattern("troupe.out.a b"),
    "subjects",
    /not a NATS subject pattern/,
  );
  throwsNaming(() => checkStreamPattern("troupe.>.x"), "subjects", /not a NATS subject pattern/);
  throwsNaming(() => checkStreamPattern(""), "subjects", /1 to 256/);
});

test("no relayed prefix matches a request subject, so that the gateway never takes an ask", () => {
  // NATS says "no responders" at once only where no subscription matches; the gateway holds one
  // subscription per prefix, so an ask under a prefix waits out its timeout when none answers.
  for (const ask of [incidentListSubject(), catchUpSubject("ops"), scanSymbolsSubject(3)]) {
    for (const prefix of STREAM_PREFIXES) {
      assert.not.ok(subjectMatches(prefix, ask), `${prefix} matches the request ${ask}`);
    }
  }
});

test.run();
