import { suite } from "uvu";
import * as assert from "uvu/assert";
import { covers, labelledEvents, linkedGroups } from "../../bench/incidents.ts";
import type { Incident } from "../../protocol/mod.ts";
import { createMarketFeed } from "../../sim/mod.ts";

const test = suite("bench incidents");

function incident(id: string, links: string[]): Incident {
  return {
    id,
    kind: id.split("-")[0]!,
    state: "resolved",
    fired: true,
    silenced: false,
    members: [{ channel: "A", first_us: 1, last_us: 2, findings: 1, peak_severity: 3 }],
    first_us: 1,
    last_us: 2,
    first_finding: "f",
    last_finding: "f",
    findings: 1,
    peak_severity: 3,
    links,
  };
}

test("linkedGroups() counts an incident and those it links to once", () => {
  const a = incident("anomaly-1-A", ["collapse-1-A"]);
  const c = incident("collapse-1-A", ["anomaly-1-A", "coherence-1-all"]);
  const h = incident("coherence-1-all", ["collapse-1-A"]);
  const lone = incident("anomaly-9-B", ["collapse-gone"]);
  assert.is(linkedGroups([a, c, h, lone]), 2);
  assert.is(linkedGroups([]), 0);
});

test("labelledEvents() makes a market-wide crash one event over every symbol", () => {
  const feed = createMarketFeed({ symbols: 8, seed: 3, volume: false, crashRate: 1e-3 });
  for (let i = 0; i < 40; i++) feed.next();
  const truth = feed.truth();
  const events = labelledEvents(truth);
  const crashes = events.filter((e) => e.kind === "crash");
  const onsets = new Set(truth.anomalies.filter((a) => a.kind === "crash").map((a) => a.onset));
  assert.ok(crashes.length > 0, "the feed crashed");
  assert.is(crashes.length, onsets.size);
  for (const e of crashes) assert.is(e.channels.size, 8);
  const e = crashes[0]!;
  const span = { first: e.start, last: e.start, channels: ["SYM003"], kind: "anomaly" };
  assert.ok(covers(span, e));
  assert.not.ok(covers({ ...span, first: e.end + 1, last: e.end + 2 }, e));
  assert.not.ok(covers({ ...span, channels: ["OTHER"] }, e));
});

test.run();
