/**
 * The journaled incident stage: a stage rebuilt from its journal holds what the stage before it
 * held, publishes nothing while it refolds, and goes on where that one left off: the next update
 * of an open incident has the next number, as if no restart had happened. Against the in-process
 * bus and the memory journal (the file journal is exercised by tests/cli/run_incidents.test.ts).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  defaultIncidentConfig,
  INCIDENT_JOURNAL_STREAM,
  runJournaledIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { InProcessBus, MemoryJournal } from "../../../actors/runtime/mod.ts";
import { decodeIncident, encodeEventEnvelope, outSubject } from "../../../protocol/mod.ts";

const test = suite("incident_journal");
const TS = 1_800_000_000_000_000;

function anomaly(channel: string, ts: number): Uint8Array {
  return encodeEventEnvelope({ id: `a-${channel}-${ts}`, type: "anomaly", src: "t", ts }, {
    type: "anomaly",
    ts,
    channel,
    score: 0.95,
    value: 80,
    expected: 100,
    lower: 95,
    upper: 105,
  });
}

/** Every incident update published on `bus`, as `id` (the envelope's: incident id and number). */
function updates(bus: InProcessBus): string[] {
  const ids: string[] = [];
  bus.subscribe("troupe.out.incident.>", (m) => ids.push(decodeIncident(m.data).envelope.id));
  return ids;
}

test("a stage rebuilt from its journal holds the same incidents and numbers on", async () => {
  const journal = new MemoryJournal();
  const bus = new InProcessBus();
  const seen = updates(bus);
  const first = await runJournaledIncidentStage(bus, { config: defaultIncidentConfig, journal });
  for (const [i, ch] of ["SYM001", "SYM002", "SYM003"].entries()) {
    bus.publish(outSubject("anomaly", ch), anomaly(ch, TS + i * 100_000));
  }
  // Per-sample outputs on the same subjects are not findings: not journaled.
  bus.publish(outSubject("anomaly", "SYM001"), new Uint8Array([0xc0]));
  bus.publish(outSubject("anomaly", "OTHER"), anomaly("OTHER", TS + 10_000_000));
  await bus.flush();
  const held = first.stage.list();
  assert.is(journal.lastPosition(INCIDENT_JOURNAL_STREAM), 4);
  first.stop();
  const before = seen.length;
  const second = await runJournaledIncidentStage(bus, { config: defaultIncidentConfig, journal });
  await bus.flush();
  assert.is(second.restored, 4);
  assert.is(seen.length, before, "the refold publishes nothing");
  assert.equal(second.stage.list(), held);
  const id = `anomaly-${TS}-SYM001`;
  const last = seen.filter((u) => u.startsWith(`${id}:`)).at(-1)!;
  bus.publish(outSubject("anomaly", "SYM002"), anomaly("SYM002", TS + 11_000_000));
  bus.publish(outSubject("anomaly", "LATER"), anomaly("LATER", TS + 20_000_000)); // releases it
  await bus.flush();
  const next = seen.slice(before).find((u) => u.startsWith(`${id}:`));
  assert.is(next, `${id}:${Number(last.split(":")[1]) + 1}`);
  second.stop();
  await bus.close();
});

test.run();
