import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createActor, type EventObject } from "xstate";
import { type CollapseConfig, defaultCollapseConfig } from "../../../actors/collapse/config.ts";
import type { CollapseChange } from "../../../actors/collapse/kernel.ts";
import {
  type CollapseEmitted,
  type CollapseFrameEvent,
  collapseMachine,
} from "../../../actors/collapse/machine.ts";

const test = suite("collapse machine");
const config: CollapseConfig = { ...defaultCollapseConfig, recover_samples: 100 };

function start(snapshot?: unknown, cfg = config) {
  const emitted: CollapseEmitted[] = [];
  const options = snapshot === undefined
    ? { input: { key: "cpu-7", config: cfg } }
    : { input: { key: "cpu-7", config: cfg }, snapshot: snapshot as never };
  const actor = createActor(collapseMachine, options);
  actor.on("*", (e: EventObject) => emitted.push(e as CollapseEmitted));
  actor.start();
  return { actor, emitted, state: () => actor.getSnapshot().value };
}

function change(at: number, over: Partial<CollapseChange> = {}): CollapseChange {
  return {
    changeIndex: at,
    changeTs: 1000 * at,
    index: at + 4,
    ts: 1000 * (at + 4),
    delaySamples: 4,
    meanBefore: 1,
    spreadBefore: 0.5,
    meanAfter: 3,
    spreadAfter: 0.5,
    levelBefore: 1,
    levelAfter: 3,
    direction: "up",
    severity: 4,
    probability: 0.995,
    ...over,
  };
}

function frame(over: Partial<CollapseFrameEvent> = {}): CollapseFrameEvent {
  return {
    type: "frame",
    ts: 0,
    changes: [],
    changeProbMax: 0.001,
    changeProbLast: 0.001,
    samplesSinceChange: 1000,
    phase: "stable",
    valid: 50,
    ...over,
  };
}

test("the machine takes the phase the kernel decided after the frame's last sample", () => {
  const m = start();
  assert.is(m.state(), "stable");
  m.actor.send(frame({ changeProbMax: 0.7, changeProbLast: 0.6, phase: "suspect" }));
  assert.is(m.state(), "suspect");
  m.actor.send(frame({ changeProbMax: 0.7, changeProbLast: 0.01, phase: "stable" }));
  assert.is(m.state(), "stable");
  m.actor.send(frame({ phase: "recovering" }));
  assert.is(m.state(), "recovering");
  assert.equal(m.emitted, []);
});

test("a confirmed change emits one collapse event with every field, then recovering, then stable", () => {
  const m = start();
  m.actor.send(frame({ changeProbMax: 0.8, changeProbLast: 0.8, phase: "suspect" }));
  m.actor.send(
    frame({
      changes: [change(500)],
      changeProbMax: 0.999,
      samplesSinceChange: 4,
      phase: "collapsed",
    }),
  );
  assert.is(m.state(), "collapsed");
  assert.equal(m.emitted, [{
    type: "collapse",
    ts: 504_000,
    channel: "cpu-7",
    change_ts: 500_000,
    change_index: 500,
    delay_samples: 4,
    mean_before: 1,
    mean_after: 3,
    level_before: 1,
    level_after: 3,
    spread_before: 0.5,
    spread_after: 0.5,
    direction: "up",
    severity: 4,
  }]);
  m.actor.send(frame({ samplesSinceChange: 60, phase: "recovering" }));
  assert.is(m.state(), "recovering");
  m.actor.send(frame({ samplesSinceChange: 200, phase: "stable" }));
  assert.is(m.state(), "stable");
  const ctx = m.actor.getSnapshot().context;
  assert.equal([ctx.changes, ctx.last_change_ts, ctx.last_severity], [1, 500_000, 4]);
  assert.is(m.emitted.length, 1);
});

test("changes in a frame that ends in another phase are still each reported, in order", () => {
  const m = start();
  m.actor.send(
    frame({ changes: [change(100), change(200, { direction: "down" })], phase: "recovering" }),
  );
  assert.equal(m.emitted.map((e) => [e.change_index, e.direction]), [[100, "up"], [200, "down"]]);
  assert.is(m.state(), "recovering");
  m.actor.send(frame({ changes: [change(300)], phase: "stable" }));
  assert.is(m.state(), "stable");
  m.actor.send(frame({ changes: [change(400)], samplesSinceChange: 0, phase: "collapsed" }));
  assert.is(m.state(), "collapsed");
  assert.equal(m.emitted.map((e) => e.change_index), [100, 200, 300, 400]);
  assert.is(m.actor.getSnapshot().context.changes, 4);
});

test("a config event replaces the configuration; ticks change nothing", () => {
  const m = start();
  m.actor.send({ type: "config", config: { ...config, suspect_threshold: 0.2 } });
  m.actor.send({ type: "tick", ts: 5 });
  assert.is(m.state(), "stable");
  assert.is(m.actor.getSnapshot().context.config.suspect_threshold, 0.2);
  assert.equal(m.emitted, []);
});

test("the persisted snapshot is plain JSON and a restored machine carries on where it was", () => {
  const m = start();
  m.actor.send(frame({ changes: [change(100)], phase: "collapsed" }));
  m.actor.send(frame({ samplesSinceChange: 50, phase: "recovering" }));
  const json = JSON.stringify(m.actor.getPersistedSnapshot());
  const r = start(JSON.parse(json));
  assert.is(r.state(), "recovering");
  assert.is(r.actor.getSnapshot().context.changes, 1);
  r.actor.send(frame({ samplesSinceChange: 150, phase: "stable" }));
  assert.is(r.state(), "stable");
  r.actor.send(frame({ changes: [change(900)], phase: "collapsed" }));
  assert.equal(r.emitted.map((e) => e.change_index), [900]);
});

test.run();
