/**
 * The collab server's log of incidents (what a history answer lists): the latest update of each
 * id, bounded, saying from when it knows them.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { IncidentLog } from "../../collab/history/incident_log.ts";
import { encodeIncident, encodeValue, type Incident } from "../../protocol/mod.ts";

const test = suite("incident log");

function update(id: string, channels: string[], first: number, last: number): Uint8Array {
  return encodeIncident(
    { id: `${id}@${last}`, src: "test", ts: last },
    copy(id, channels, first, last),
  );
}

function copy(id: string, channels: string[], first: number, last: number): Incident {
  return {
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

test("seed() takes the stage's list; of two copies of an id the one further along is kept", () => {
  const log = new IncidentLog({ nowUs: () => 1_000_000 });
  const open = { ...copy("open", ["X"], 100, 400), state: "firing" as const, findings: 3 };
  const done = { ...copy("done", ["X"], 50, 300), state: "resolved" as const };
  // An update seen on the wire before the list's answer came, one finding further along.
  log.add(encodeIncident({ id: "open@500", src: "t", ts: 500 }, { ...open, findings: 4 }));
  log.seed([done, open]);
  assert.equal(log.range("X", 0, 1_000, 10).map((i) => [i.id, i.findings]), [
    ["done", 1],
    ["open", 4],
  ]);
  assert.is(log.since_us, 300, "the list covers from its oldest resolved incident's end");
  // A later update that is behind the kept copy (a stale one from before) is passed over; one
  // as far along (only its silenced mark differs) is taken: an update seen later wins a tie.
  log.add(encodeIncident({ id: "open@9", src: "t", ts: 9 }, { ...open, state: "pending" }));
  assert.is(log.range("X", 0, 1_000, 10)[1]!.findings, 4);
  const silenced = { ...open, findings: 4, silenced: true };
  log.add(encodeIncident({ id: "open@600", src: "t", ts: 600 }, silenced));
  assert.is(log.range("X", 0, 1_000, 10)[1]!.silenced, true);
  // A second list (a reconnect) with a copy as far along changes nothing; a newer one wins.
  log.seed([{ ...open, findings: 4 }]);
  assert.is(log.range("X", 0, 1_000, 10)[1]!.silenced, true);
  log.seed([{ ...open, findings: 4, state: "resolved" }]);
  assert.is(log.range("X", 0, 1_000, 10)[1]!.state, "resolved");
  assert.equal(log.all().map((i) => i.id), ["done", "open"]);
  // Only open incidents listed: from the earliest start; an empty list leaves since_us alone.
  const fresh = new IncidentLog({ nowUs: () => 1_000_000 });
  fresh.seed([]);
  assert.is(fresh.since_us, 1_000_000);
  fresh.seed([open]);
  assert.is(fresh.since_us, 100);
});

test.run();
