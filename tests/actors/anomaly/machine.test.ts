import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createActor } from "xstate";
import {
  type AnomalyConfig,
  type AnomalyEmitted,
  type AnomalyFrameChange,
  type AnomalyFrameEvent,
  anomalyMachine,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";

const test = suite("anomaly machine");

const CONFIG: AnomalyConfig = { ...defaultAnomalyConfig, warmup_samples: 100 };
const TS0 = 1_700_000_000_000_000;

/** A change at sample `at`: an opening (with a score) or a closing. */
function change(at: number, open: boolean, score = open ? 0.9 : 0.1): AnomalyFrameChange {
  return { open, ts: TS0 + at, score, value: 10 + score, expected: 10, lower: 8, upper: 12 };
}

function frame(seen: number, ...changes: AnomalyFrameChange[]): AnomalyFrameEvent {
  return { type: "frame", seen, changes };
}

function start(config = CONFIG) {
  const emitted: AnomalyEmitted[] = [];
  const actor = createActor(anomalyMachine, { input: { key: "cpu-7", config } });
  actor.on("anomaly", (e) => emitted.push(e as AnomalyEmitted));
  actor.start();
  return { actor, emitted };
}

test("the machine stays warming and silent until the kernel has seen warmup_samples", () => {
  const { actor, emitted } = start();
  actor.send(frame(50));
  actor.send(frame(90));
  assert.is(actor.getSnapshot().value, "warming");
  assert.is(emitted.length, 0);
  actor.send(frame(100));
  assert.is(actor.getSnapshot().value, "normal");
  actor.stop();
});

test("an opening raises one anomaly event carrying its sample's fields", () => {
  const { actor, emitted } = start();
  actor.send(frame(200));
  actor.send(frame(210, change(205, true, 0.9)));
  assert.is(actor.getSnapshot().value, "alerting");
  assert.equal(emitted, [{
    type: "anomaly",
    ts: TS0 + 205,
    channel: "cpu-7",
    score: 0.9,
    value: 10.9,
    expected: 10,
    lower: 8,
    upper: 12,
  }]);
  assert.is(actor.getSnapshot().context.incidents, 1);
  actor.stop();
});

test("every change of a frame counts, in order: two incidents in one frame make two events", () => {
  const { actor, emitted } = start();
  actor.send(frame(200));
  actor.send(frame(500, change(210, true, 0.6), change(300, false), change(450, true, 1)));
  assert.is(actor.getSnapshot().value, "alerting");
  assert.equal(emitted.map((e) => [e.ts - TS0, e.score]), [[210, 0.6], [450, 1]]);
  assert.is(actor.getSnapshot().context.incidents, 2);
  actor.send(frame(600, change(550, false)));
  assert.is(actor.getSnapshot().value, "normal");
  actor.send(frame(700, change(610, true), change(690, false)));
  assert.is(actor.getSnapshot().value, "normal");
  assert.is(emitted.length, 3);
  actor.stop();
});

test("a restatement raises one more event, marked, in its incident: nothing opens or closes", () => {
  const { actor, emitted } = start();
  actor.send(frame(200));
  actor.send(frame(210, change(205, true, 0.9)));
  const restated = { ...change(208, true, 0.2), expected: 9.5, restated: true as const };
  actor.send(frame(220, restated));
  assert.is(actor.getSnapshot().value, "alerting");
  assert.is(emitted.length, 2);
  assert.equal(emitted[1], {
    type: "anomaly",
    ts: TS0 + 208,
    channel: "cpu-7",
    score: 0.2,
    value: 10.2,
    expected: 9.5,
    lower: 8,
    upper: 12,
    restated: true,
  });
  assert.is(actor.getSnapshot().context.incidents, 1);
  // A restatement then the closing in one frame: both raised, the incident closed.
  actor.send(frame(260, { ...restated, ts: TS0 + 230 }, change(250, false)));
  assert.is(actor.getSnapshot().value, "normal");
  assert.is(emitted.length, 3);
  assert.is(actor.getSnapshot().context.incidents, 1);
  actor.stop();
});

test("a frame that opens an incident at the end of the warm-up raises it", () => {
  const { actor, emitted } = start();
  actor.send(frame(120, change(110, true)));
  assert.is(actor.getSnapshot().value, "alerting");
  assert.is(emitted.length, 1);
  actor.stop();
});

test("a config event replaces the configuration", () => {
  const { actor } = start();
  actor.send({ type: "config", config: { ...CONFIG, threshold: 0.3 } });
  assert.is(actor.getSnapshot().context.config.threshold, 0.3);
  actor.stop();
});

test("ticks change nothing", () => {
  const { actor, emitted } = start();
  actor.send(frame(200, change(150, true)));
  const before = JSON.stringify(actor.getPersistedSnapshot());
  actor.send({ type: "tick", ts: 1_700_000_100_000_000 });
  assert.is(JSON.stringify(actor.getPersistedSnapshot()), before);
  assert.is(emitted.length, 1);
  actor.stop();
});

test("a persisted snapshot restored through JSON continues exactly where it left off", () => {
  const events = [frame(90), frame(200, change(150, true)), frame(210), frame(220)];
  const later = [frame(230, change(225, false)), frame(240), frame(260, change(255, true))];
  const whole = start();
  for (const e of [...events, ...later]) whole.actor.send(e);
  const first = start();
  for (const e of events) first.actor.send(e);
  const saved = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()));
  first.actor.stop();
  const emitted: AnomalyEmitted[] = [];
  const resumed = createActor(anomalyMachine, {
    snapshot: saved,
    input: { key: "cpu-7", config: CONFIG },
  });
  resumed.on("anomaly", (e) => emitted.push(e as AnomalyEmitted));
  resumed.start();
  for (const e of later) resumed.send(e);
  assert.equal([...first.emitted, ...emitted], whole.emitted);
  assert.equal(resumed.getPersistedSnapshot(), whole.actor.getPersistedSnapshot());
  assert.is(whole.emitted.length, 2);
  resumed.stop();
  whole.actor.stop();
});

test.run();
