import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  covers,
  labelledEvents,
  linkedGroups,
  missesByKind,
  missesTable,
  surplusByKind,
  surplusLine,
} from "../../bench/incidents.ts";
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

test("missesByKind() counts each labelled event once, by the best thing that covers it", () => {
  const ev = (kind: string, start: number, channels: string[]) => ({
    kind,
    start,
    end: start + 10,
    channels: new Set(channels),
  });
  const events = [
    ev("jump", 0, ["A"]), // fired
    ev("jump", 100, ["B"]), // pending only
    ev("jump", 200, ["C"]), // a finding only
    ev("jump", 300, ["D"]), // nothing: the finding is on another channel
    ev("regime", 0, []), // fired: a coherence incident
    ev("regime", 500, []), // nothing: an anomaly incident does not cover a regime
  ];
  const span = (first: number, channels: string[], kind = "anomaly") => ({
    first,
    last: first + 1,
    channels,
    kind,
  });
  const rows = missesByKind(events, {
    fired: [span(5, ["A"]), span(5, ["all"], "coherence"), span(505, ["A"])],
    pending: [span(105, ["B"]), span(5, ["A"])],
    findings: [span(105, ["B"]), span(205, ["C"]), span(305, ["E"])],
  });
  assert.equal(rows, [
    { kind: "jump", events: 4, fired: 1, pending: 1, finding: 1, none: 1 },
    { kind: "regime", events: 2, fired: 1, pending: 0, finding: 0, none: 1 },
  ]);
  const table = missesTable([...rows, ...rows]).split("\n");
  assert.is(table.length, 3);
  assert.match(table[1]!, /^jump\s+8\s+2\s+0\.250\s+2\s+2\s+2$/);
  assert.match(table[2]!, /^regime\s+4\s+2\s+0\.500\s+0\s+0\s+2$/);
});

test("surplusByKind() counts the fired incidents that cover no labelled event, by kind", () => {
  const events = [
    { kind: "jump", start: 0, end: 10, channels: new Set(["A"]) },
    { kind: "regime", start: 100, end: 200, channels: new Set<string>() },
  ];
  const span = (first: number, channels: string[], kind: string) => ({
    first,
    last: first + 1,
    channels,
    kind,
  });
  const surplus = surplusByKind([
    span(5, ["A"], "anomaly"), // covers the jump
    span(5, ["B"], "anomaly"), // another channel: surplus
    span(50, ["A"], "anomaly"), // after the jump's window: surplus
    span(150, ["all"], "coherence"), // covers the regime
    span(150, ["C"], "collapse"), // a regime is met by coherence only: surplus
    span(300, ["all"], "coherence"), // surplus
  ], events);
  assert.equal([...surplus].sort(), [["anomaly", 2], ["coherence", 1], ["collapse", 1]]);
  assert.is(
    surplusLine([surplus, new Map([["anomaly", 3]])]),
    "fired incidents covering no labelled event: anomaly 5, coherence 1, collapse 1",
  );
  assert.is(surplusLine([new Map()]), "fired incidents covering no labelled event: none");
});

test.run();
