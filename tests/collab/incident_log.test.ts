/**
 * The collab server's log of incidents (what a history answer lists): the latest update of each
 * id, bounded, saying from when it knows them.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { IncidentLog } from "../../collab/incident_log.ts";
import { encodeIncident, encodeValue, type Incident } from "../../protocol/mod.ts";

const test = suite("incident log");

function update(id: string, channels: string[], first: number, last: number): Uint8Array {
  const incident: Incident = {
    id,
    kind: "collapse",
    state: "firing",
    fired: true,
    silenced: false,
    members: channels.map((channel) => ({
      channel,
      first_us: first,
      last_us: last,
      findings: 1,
      peak_severity: 2,
    })),
    first_us: first,
    last_us: last,
    first_finding: "a",
    last_finding: "b",
    findings: channels.length,
    peak_severity: 2,
    links: [],
  };
  return encodeIncident({ id: `${id}@${last}`, src: "test", ts: last }, incident);
}

test("keeps the latest update of each id, evicts the one updated longest ago, says since when", () => {
  const log = new IncidentLog({ incidents_max: 2, nowUs: () => 1_000 });
  log.add(update("a", ["X"], 10, 20));
  log.add(update("b", ["X", "Y"], 30, 40));
  log.add(update("a", ["X"], 10, 50)); // a is now the newest update
  assert.equal(log.range("X", 0, 100, 10).map((i) => [i.id, i.last_us]), [["a", 50], ["b", 40]]);
  assert.is(log.since_us, 1_000);
  log.add(update("c", ["Y"], 60, 70)); // evicts b, updated longest ago
  assert.equal(log.range("X", 0, 100, 10).map((i) => i.id), ["a"]);
  assert.equal(log.range("Y", 0, 100, 10).map((i) => i.id), ["c"]);
  assert.is(log.since_us, 1_000, "b ended before the log started");
  log.add(update("d", ["Y"], 80, 2_000));
  log.add(update("e", ["Y"], 90, 3_000)); // evicts a, then c: since stays the largest span end
  assert.is(log.since_us, 1_000);
  log.add(update("f", ["Y"], 95, 4_000)); // evicts d, which ran to 2,000
  assert.is(log.since_us, 2_000);
});

test("range() keeps the spans that meet [t0, t1) of a member channel, at most max, newest", () => {
  const log = new IncidentLog({ nowUs: () => 0 });
  log.add(update("before", ["X"], 0, 9));
  log.add(update("into", ["X"], 5, 10));
  log.add(update("inside", ["X"], 12, 13));
  log.add(update("at-end", ["X"], 20, 30));
  log.add(update("other", ["Y"], 12, 13));
  assert.equal(log.range("X", 10, 20, 10).map((i) => i.id), ["into", "inside"]);
  assert.equal(log.range("X", 10, 21, 1).map((i) => i.id), ["at-end"]);
  log.add(encodeValue({ not: "an incident" }));
  assert.is(log.malformed, 1);
  assert.throws(() => new IncidentLog({ incidents_max: 0, nowUs: () => 0 }), /got 0/);
});

test.run();
