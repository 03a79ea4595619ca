import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compileChannelGlobs, filterMatches } from "../../collab/mod.ts";

const test = suite("stream filters");

test("filterMatches() applies subject patterns and channel globs to the last token", () => {
  const f = {
    subjects: ["troupe.out.anomaly.*", "troupe.dlq.>"],
    channels: compileChannelGlobs(["BTC*", "e.h"]),
  };
  assert.ok(filterMatches(f, "troupe.out.anomaly.BTC-USD"));
  assert.not.ok(filterMatches(f, "troupe.out.anomaly.ETH"));
  assert.ok(filterMatches(f, "troupe.out.anomaly.e.h") === false); // not one token: subject fails
  assert.not.ok(filterMatches(f, "troupe.out.anomaly.exh"), "a dot in a glob is literal");
  assert.not.ok(filterMatches(f, "troupe.out.stats.BTC"));
  assert.ok(filterMatches({ subjects: ["troupe.out.>"] }, "troupe.out.stats.x"));
});

test.run();
