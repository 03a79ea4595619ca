import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createActor } from "xstate";
import {
  type AnomalyConfig,
  type AnomalyEmitted,
  type AnomalyFrameEvent,
  anomalyMachine,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";

const test = suite("anomaly machine");

const CONFIG: AnomalyConfig = { ...defaultAnomalyConfig, warmup_samples: 100, clear_samples: 50 };

function frame(seen: number, score: number, over: Partial<AnomalyFrameEvent> = {}) {
  const high = score >= CONFIG.threshold ? 1 : 0;
  return {
    type: "frame",
    ts: 1_700_000_000_000_000 + seen,
    score,
    value: 10 + score,
    expected: 10,
    lower: 8,
    upper: 12,
    seen,
    valid: 10,
    above: high,
    quiet_tail: high ? 3 : 10,
    ...over,
  } satisfies AnomalyFrameEvent;
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
  actor.send(frame(50, 1));
  actor.send(frame(90, 1));
  assert.is(actor.getSnapshot().value, "warming");
  assert.is(emitted.length, 0);
  actor.send(frame(100, 0));
  assert.is(actor.getSnapshot().value, "normal");
  actor.stop();
});

test("a high frame raises one anomaly event carrying the strongest sample's fields", () => {
  const { actor, emitted } = start();
  actor.send(frame(200, 0.1));
  actor.send(frame(210, 0.9, { ts: 1_700_000_000_123_456 }));
  assert.is(actor.getSnapshot().value, "alerting");
  assert.equal(emitted, [{
    type: "anomaly",
    ts: 1_700_000_000_123_456,
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

test("one incident makes one event: it ends after clear_samples quiet samples, then may recur", () => {
  const { actor, emitted } = start();
  actor.send(frame(200, 0.9)); // raise; 3 quiet samples after the peak
  actor.send(frame(210, 0.95)); // still the same incident
  actor.send(frame(220, 0.2)); // quiet 13
  actor.send(frame(230, 0.2)); // 23
  actor.send(frame(240, 0.7)); // extends: quiet back to 3
  actor.send(frame(250, 0.2)); // 13
  actor.send(frame(260, 0.2)); // 23
  actor.send(frame(270, 0.2)); // 33
  actor.send(frame(280, 0.2)); // 43
  assert.is(actor.getSnapshot().value, "alerting");
  assert.is(emitted.length, 1);
  actor.send(frame(290, 0.2)); // 53 >= 50: cleared
  assert.is(actor.getSnapshot().value, "normal");
  actor.send(frame(300, 0.8));
  assert.is(emitted.length, 2);
  assert.is(actor.getSnapshot().context.incidents, 2);
  actor.stop();
});

test("a config event changes the threshold at run time", () => {
  const { actor, emitted } = start();
  actor.send(frame(200, 0.4));
  assert.is(emitted.length, 0);
  actor.send({ type: "config", config: { ...CONFIG, threshold: 0.3 } });
  actor.send(frame(210, 0.4, { above: 1, quiet_tail: 0 }));
  assert.is(emitted.length, 1);
  assert.is(actor.getSnapshot().context.config.threshold, 0.3);
  actor.stop();
});

test("a score of 0 never alarms, even with a threshold of 0", () => {
  const { actor, emitted } = start({ ...CONFIG, threshold: 0 });
  actor.send(frame(200, 0, { above: 0 }));
  assert.is(emitted.length, 0);
  assert.is(actor.getSnapshot().value, "normal");
  actor.stop();
});

test("ticks change nothing", () => {
  const { actor, emitted } = start();
  actor.send(frame(200, 0.9));
  const before = JSON.stringify(actor.getPersistedSnapshot());
  actor.send({ type: "tick", ts: 1_700_000_100_000_000 });
  assert.is(JSON.stringify(actor.getPersistedSnapshot()), before);
  assert.is(emitted.length, 1);
  actor.stop();
});

test("a persisted snapshot restored through JSON continues exactly where it left off", () => {
  const events = [frame(90, 1), frame(200, 0.9), frame(210, 0.2), frame(220, 0.2)];
  const later = [frame(230, 0.2), frame(240, 0.2), frame(250, 0.2), frame(260, 0.9)];
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
