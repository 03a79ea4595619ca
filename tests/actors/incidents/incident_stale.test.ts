/**
 * Prometheus's stale marker ends a channel's open incident: the receiver's `stale` control
 * message, taken by the stage in event-time order among the findings (a grouped incident ends
 * once all its members are stale), the same through the stage's journal as live.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeIncidentSnapshot,
  defaultIncidentConfig,
  encodeIncidentSnapshot,
  IncidentStage,
  runJournaledIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { InProcessBus, MemoryJournal } from "../../../actors/runtime/mod.ts";
import {
  decodeIncident,
  decodeIncidentControl,
  decodeIncidentControlAnswer,
  encodeEventEnvelope,
  encodeIncidentControl,
  findingSubject,
  type Incident,
  incidentStaleSubject,
  ProtocolError,
  STALE_CHANNELS_MAX,
} from "../../../protocol/mod.ts";

const test = suite("incident stage: stale markers");

const T0 = 1_763_900_000_000_000;
const S = 1_000_000;
const config = { ...defaultIncidentConfig, reorder_us: 0, for_us: S, hold_us: 600 * S };

function anomaly(channel: string, ts: number): Uint8Array {
  return encodeEventEnvelope(
    { id: `a:${channel}:${ts}`, type: "anomaly", src: "h", ts },
    { channel, score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 },
  );
}

function stale(channels: string[], ts: number): Uint8Array {
  return encodeIncidentControl({ id: `s${ts}`, src: "remote-write", ts }, {
    type: "stale",
    session: "remote-write",
    channels,
  });
}

/** The stage's last update of each incident. */
function lastOf(out: Uint8Array[]): Map<string, Incident> {
  const m = new Map<string, Incident>();
  for (const d of out) {
    const i = decodeIncident(d).incident;
    m.set(i.id, i);
  }
  return m;
}

test("a stale message round-trips; a bad one names its field", () => {
  const back = decodeIncidentControl(stale(["node-node_load1"], T0));
  assert.equal(back.control, {
    type: "stale",
    session: "remote-write",
    channels: ["node-node_load1"],
  });
  assert.is(back.envelope.ts, T0);
  assert.throws(
    () => decodeIncidentControl(stale([], T0)),
    (e: Error) => e instanceof ProtocolError && /body\.channels/.test(e.message),
  );
  assert.throws(() => decodeIncidentControl(stale(["a b"], T0)), /body\.channels\[0\]/);
  assert.throws(
    () => stale(Array.from({ length: STALE_CHANNELS_MAX + 1 }, (_, i) => `c${i}`), T0),
    /at most 1024/,
  );
});

test("the stale marker ends the channel's firing incident at its time; a group ends when all its members are stale", () => {
  const out: Uint8Array[] = [];
  const stage = new IncidentStage({ config, publish: (_s, d) => out.push(d) });
  stage.take(anomaly("A", T0));
  stage.take(anomaly("X", T0 + 100 * S)); // past A's window: an incident of its own
  stage.take(anomaly("Y", T0 + 101 * S)); // groups with X
  stage.take(anomaly("Z", T0 + 103 * S)); // joins X's group, moves the watermark: it fires
  let last = lastOf(out);
  assert.equal([...last.values()].map((i) => i.state), ["firing", "firing"]);
  stage.control(stale(["A", "X"], T0 + 104 * S));
  stage.take(anomaly("X", T0 + 105 * S)); // X is back: no longer stale
  stage.control(stale(["Y", "Z"], T0 + 106 * S));
  stage.flush(T0 + 106 * S);
  last = lastOf(out);
  const a = [...last.values()].find((i) => i.members[0]!.channel === "A")!;
  const g = [...last.values()].find((i) => i.members.length > 1)!;
  assert.is(a.state, "resolved", "A's incident ended by its stale marker, not its hold");
  assert.is(a.last_us, T0);
  assert.is(g.state, "firing", "X came back after its marker: the group goes on");
  stage.control(stale(["X"], T0 + 107 * S));
  stage.flush(T0 + 107 * S);
  assert.is(lastOf(out).get(g.id)!.state, "resolved", "every member stale: the group ends");
  assert.equal(stage.open(), []);
});

test("a stale marker held for its time and a member marked stale survive the stage's snapshot", () => {
  const out: Uint8Array[] = [];
  const narrow = { ...config, group_window_us: 3 * S }; // W, at 4 s, opens its own
  const stage = new IncidentStage({ config: narrow, publish: (_s, d) => out.push(d) });
  stage.take(anomaly("X", T0));
  stage.take(anomaly("Y", T0 + S / 2)); // groups with X
  stage.take(anomaly("Z", T0 + 2 * S)); // joins, moves the watermark: the group fires
  stage.control(stale(["X", "Y"], T0 + 3 * S)); // held: the watermark is at 2 s
  stage.take(anomaly("W", T0 + 4 * S)); // X and Y gone; Z goes on
  stage.control(stale(["Z"], T0 + 5 * S)); // held
  const copy = new IncidentStage({ config: narrow, publish: (_s, d) => out.push(d) });
  copy.restore(decodeIncidentSnapshot(encodeIncidentSnapshot(stage.saved())));
  assert.is(copy.open().find((i) => i.members.length === 3)?.state, "firing");
  copy.take(anomaly("W", T0 + 6 * S));
  const g = [...lastOf(out).values()].find((i) => i.members.length === 3)!;
  assert.is(g.state, "resolved", "Z's held marker, with X and Y already gone, ends the group");
  assert.is(decodeIncident(out.at(-2)!).envelope.ts, T0 + 5 * S);
});

test("a stage rebuilt from its journal ends the incident as the live one did", async () => {
  const bus = new InProcessBus();
  const journal = new MemoryJournal();
  const live: Uint8Array[] = [];
  bus.subscribe("troupe.out.incident.>", (m) => live.push(m.data));
  const run = await runJournaledIncidentStage(bus, { config, journal });
  bus.publish(findingSubject("anomaly", "A"), anomaly("A", T0));
  bus.publish(findingSubject("anomaly", "B"), anomaly("B", T0 + 100 * S));
  bus.publish(findingSubject("anomaly", "B"), anomaly("B", T0 + 102 * S));
  bus.publish(incidentStaleSubject(), stale(["A"], T0 + 103 * S));
  bus.publish(findingSubject("anomaly", "B"), anomaly("B", T0 + 104 * S));
  const liveOf = () => [...lastOf(live).values()].find((i) => i.members[0]!.channel === "A");
  for (let k = 0; k < 100 && liveOf()?.state !== "resolved"; k++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await run.stop();
  const liveA = liveOf()!;
  assert.is(liveA.state, "resolved");
  assert.is(liveA.last_us, T0);

  const again = await runJournaledIncidentStage(new InProcessBus(), { config, journal });
  const refolded = again.stage.list().find((i) => i.id === liveA.id)!;
  assert.equal(refolded, liveA);
  await again.stop();
});

test("the stale subject takes stale notices only: an ack or silence there is refused", async () => {
  const bus = new InProcessBus();
  const letters: string[] = [];
  bus.subscribe("troupe.dlq.>", (m) => letters.push(m.subject));
  const run = await runJournaledIncidentStage(bus, { config, journal: new MemoryJournal() });
  const ack = encodeIncidentControl({ id: "ack-1", src: "rogue", ts: T0 }, {
    type: "ack",
    session: "rogue",
    incident: "anomaly:A:1",
  });
  const answer = decodeIncidentControlAnswer(
    (await bus.request(incidentStaleSubject(), ack, { timeout: 1000 })).data,
  );
  assert.is(answer.ok, false);
  assert.match(answer.detail, 'must be of type "stale", got "ack"');
  assert.equal(letters.length, 1);
  await run.stop();
});

test.run();
