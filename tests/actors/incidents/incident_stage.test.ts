/**
 * The incident stage reads each finding's body with its kind's decoder (protocol/events/): an
 * event whose body does not decode opens nothing and goes to the dead letters, naming the field.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defaultIncidentConfig, runIncidentStage } from "../../../actors/incidents/mod.ts";
import { decodeDeadLetter, InProcessBus } from "../../../actors/runtime/mod.ts";
import {
  areaPattern,
  type CollapseBody,
  encodeCollapse,
  encodeEnvelope,
  outSubject,
} from "../../../protocol/mod.ts";

const test = suite("incident stage");
const T0 = 1_800_000_000_000_000;

const BODY: CollapseBody = {
  channel: "SYM001",
  change_ts: T0,
  change_index: 100,
  delay_samples: 5,
  mean_before: 100,
  mean_after: 80,
  level_before: 100,
  level_after: 80,
  spread_before: 1,
  spread_after: 2,
  direction: "down",
  severity: 9,
};

test("runIncidentStage() dead-letters an event whose body does not decode, naming the field, and opens nothing on it", async () => {
  const bus = new InProcessBus();
  const { stage, stop } = runIncidentStage(bus, { config: defaultIncidentConfig });
  const letters: Uint8Array[] = [];
  bus.subscribe(areaPattern("dlq"), (m) => letters.push(m.data));
  try {
    const subject = outSubject("collapse", "SYM001");
    const meta = { id: "bad", type: "collapse", src: "collapse/SYM001", ts: T0 + 5_000_000 };
    bus.publish(subject, encodeEnvelope({ ...meta, body: { ...BODY, change_ts: "soon" } }));
    await bus.flush();
    assert.is(letters.length, 1);
    const letter = decodeDeadLetter(letters[0]!);
    assert.is(letter.reason, "value");
    assert.is(letter.field, "change_ts");
    assert.is(letter.subject, subject);
    assert.is(letter.actor, "incidents");
    assert.match(letter.error, 'field "change_ts" must be an integer, got "soon"');
    stage.flush();
    assert.equal(stage.list(), []);

    bus.publish(subject, encodeCollapse({ id: "good", src: meta.src, ts: meta.ts }, BODY));
    await bus.flush();
    assert.is(letters.length, 1, "a good body is no dead letter");
    stage.flush(); // the findings held for ordering
    assert.equal(stage.list().map((i) => [i.kind, i.first_us]), [["collapse", T0 + 5_000_000]]);
  } finally {
    stop();
    await bus.close();
  }
});

test.run();
