/**
 * The dashboard's fleet view, pure (collab/web/browser/fleet/): the order of channels by what is
 * wrong now, grouped by instance and job; the filter box's matchers and words; a series named by
 * its labels. On the code before, cards were ordered by name alone and there was no filter.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ChannelIndex,
  NO_FILTER,
  OUT_HOLD_US,
  parseChannelFilter,
  seriesName,
} from "../../../collab/web/browser/fleet/mod.ts";
import { ProtocolError } from "../../../protocol/mod.ts";
import { defaultIncidentConfig } from "../../../actors/incidents/mod.ts";
import type { Incident } from "../../../protocol/mod.ts";

const test = suite("dashboard fleet");

const L = (o: Record<string, string>) =>
  Object.entries(o).map(([name, value]) => ({ name, value }));
const node = (instance: string, metric: string) => ({
  channel: `${instance.replace(/\W/g, "_")}-node-${metric}`,
  labels: L({ __name__: metric, instance, job: "node" }),
});

/** One sample of `value` at `tS` seconds against expected 10 and a band of ±2. */
function cols(value: number, tS = 1): Float64Array[] {
  return [[tS * 1e6], [value], [10], [8], [12]].map((c) => new Float64Array(c));
}

function incident(id: string, channel: string, state: Incident["state"], sev: number): Incident {
  return {
    id,
    kind: "anomaly",
    state,
    fired: state === "firing",
    silenced: false,
    members: [{ channel, first_us: 1, last_us: 2, findings: 1, peak_severity: sev }],
    first_us: 1,
    last_us: 2,
    first_finding: "f",
    last_finding: "f",
    findings: 1,
    peak_severity: sev,
    links: [],
  };
}

test("order: open incidents first, then score; grouped by instance and job, worst group first", () => {
  const index = new ChannelIndex();
  const a1 = node("a:9100", "node_load1"), a2 = node("a:9100", "node_memory_MemAvailable_bytes");
  const b1 = node("b:9100", "node_load1"), b2 = node("b:9100", "node_network_info");
  index.setLabels([a1, a2, b1, b2]);
  index.sampled(a1.channel, cols(10.5), 1); // score 0.25
  index.sampled(a2.channel, cols(13), 1); // 1.5
  index.sampled(b1.channel, cols(11), 1); // 0.5
  index.sampled("SYM001", cols(20), 1); // 5, no labels
  let groups = index.order(NO_FILTER);
  assert.equal(groups.map((g) => g.group), [
    "",
    'instance="a:9100" job="node"',
    'instance="b:9100" job="node"',
  ]);
  assert.equal(groups[1]!.channels, [a2.channel, a1.channel]);
  // b's never-sampled series comes after its sampled one.
  assert.equal(groups[2]!.channels, [b1.channel, b2.channel]);
  index.incident(incident("i1", b2.channel, "firing", 3));
  groups = index.order(NO_FILTER);
  assert.equal(groups[0]!.group, 'instance="b:9100" job="node"');
  assert.equal(groups[0]!.channels, [b2.channel, b1.channel]);
  assert.is(groups[0]!.open, 1);
  index.incident(incident("i1", b2.channel, "resolved", 3));
  assert.equal(index.order(NO_FILTER)[0]!.group, "");
});

test("order: every channel in its band ranks alike, so a wandering score moves no card", () => {
  const index = new ChannelIndex();
  const a = node("a:9100", "node_load1"), b = node("b:9100", "node_load1");
  const c = node("c:9100", "node_load1");
  index.setLabels([a, b, c]);
  const groups = () => index.order(NO_FILTER).map((g) => g.group);
  const byName = ['instance="a:9100" job="node"', 'instance="b:9100" job="node"'];
  // In band (scores 0.25 to 0.95, in either order): by name, whatever the scores.
  index.sampled(a.channel, cols(10.5), 1);
  index.sampled(b.channel, cols(11.9), 1);
  index.sampled(c.channel, cols(11), 1);
  assert.equal(groups(), [...byName, 'instance="c:9100" job="node"']);
  index.sampled(a.channel, cols(11.9), 1);
  index.sampled(b.channel, cols(10.5), 1);
  assert.equal(groups(), [...byName, 'instance="c:9100" job="node"']);
  // Out of band (1 and more): first, by score; back in band, back in its place.
  index.sampled(c.channel, cols(12), 1);
  assert.equal(groups(), ['instance="c:9100" job="node"', ...byName]);
  index.sampled(b.channel, cols(15), 1);
  assert.equal(groups()[0], 'instance="b:9100" job="node"');
  // Back in band past the incident stage's hold (OUT_HOLD_US, 30 s), back in its place.
  index.sampled(b.channel, cols(9, 31), 1);
  index.sampled(c.channel, cols(10, 31), 1);
  assert.equal(groups(), [...byName, 'instance="c:9100" job="node"']);
});

test("order: a channel in trouble ranks by its highest score until the incident stage's hold ends", () => {
  assert.is(OUT_HOLD_US, defaultIncidentConfig.hold_us);
  const index = new ChannelIndex();
  const a = node("a:9100", "node_load1"), b = node("b:9100", "node_load1");
  const c = node("c:9100", "node_load1");
  index.setLabels([a, b, c]);
  const groups = () => index.order(NO_FILTER).map((g) => g.group.slice(10, 11));
  index.sampled(a.channel, cols(10, 0), 1);
  index.sampled(b.channel, cols(10, 0), 1);
  // c flaps across its band's edge every 3 s: out (1.5), in (0.5), out (2), in...
  index.sampled(c.channel, cols(13, 0), 1);
  assert.equal(groups(), ["c", "a", "b"]);
  for (let s = 3; s <= 27; s += 3) {
    index.sampled(c.channel, cols(s % 6 === 0 ? 14 : 11, s), 1);
    assert.equal(groups(), ["c", "a", "b"], `at ${s} s`);
  }
  // c out again at 1.2 (27.5 s) ranks by its highest, 2: b out at 1.5 after it, at 2.5 before.
  index.sampled(c.channel, cols(12.4, 27.5), 1);
  index.sampled(b.channel, cols(13, 28), 1);
  assert.equal(groups(), ["c", "b", "a"]);
  index.sampled(b.channel, cols(15, 28.5), 1);
  assert.equal(groups(), ["b", "c", "a"]);
  // Both back in band, each still ranked by its highest: b (2.5) before c (2). c's trouble ends
  // 30 s after its last sample out (27.5 s) by the feed's clock (any channel's newest sample),
  // b's 30 s after 28.5 s, though it sent nothing since 29 s; then by name.
  index.sampled(b.channel, cols(10, 29), 1);
  index.sampled(c.channel, cols(11, 30), 1);
  assert.equal(groups(), ["b", "c", "a"]);
  index.sampled(a.channel, cols(10, 57.4), 1);
  assert.equal(groups(), ["b", "c", "a"]);
  index.sampled(a.channel, cols(10, 57.5), 1);
  assert.equal(groups(), ["b", "a", "c"]);
  index.sampled(a.channel, cols(10, 58.4), 1);
  assert.equal(groups(), ["b", "a", "c"]);
  index.sampled(a.channel, cols(10, 58.5), 1);
  assert.equal(groups(), ["a", "b", "c"]);
  // Trouble again after it ended starts anew: c out at 1.2 ranks by 1.2, not by its old 2.
  index.sampled(c.channel, cols(12.4, 60), 1);
  index.sampled(b.channel, cols(13, 60), 1);
  assert.equal(groups(), ["b", "c", "a"]);
});

test("filter: label matchers with or without braces, words in names and label values", () => {
  const a = node("a:9100", "node_load1"),
    db = {
      channel: "db_1_9187-postgres-pg_up",
      labels: L({ __name__: "pg_up", instance: "db-1:9187", job: "postgres" }),
    };
  const pass = (text: string) =>
    [a, db, { channel: "SYM001", labels: [] }].filter((c) =>
      parseChannelFilter(text).matches(c.channel, c.labels)
    ).map((c) => c.channel);
  assert.equal(pass('job="node"'), [a.channel]);
  assert.equal(pass('{job!="node"}'), [db.channel, "SYM001"]);
  assert.equal(pass('instance=~"db-.*"'), [db.channel]);
  assert.equal(pass("9187"), [db.channel]);
  assert.equal(pass("LOAD"), [a.channel]);
  assert.equal(pass('job="node" load1'), [a.channel]);
  assert.equal(pass('job="node" pg'), []);
  assert.equal(pass('__name__="SYM001"'), ["SYM001"]);
  assert.equal(pass("  "), [a.channel, db.channel, "SYM001"]);
  try {
    parseChannelFilter('instance=~"db-("');
    assert.unreachable("a regular expression that does not compile");
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.match((err as Error).message, /"instance" does not compile/);
  }
});

test("seriesName() writes metric{instance, job, ...} and the channel when it has no labels", () => {
  const labels = L({ device: "eth0", job: "node", __name__: "node_network_info", instance: "a" });
  assert.is(
    seriesName("x", labels),
    'node_network_info{instance="a", job="node", device="eth0"}',
  );
  assert.is(seriesName("SYM001", undefined), "SYM001");
});

test.run();
