import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createActor } from "xstate";
import {
  type CoherenceEmitted,
  type CoherenceFrameEvent,
  coherenceMachine,
} from "../../../actors/coherence/machine.ts";
import { type CoherenceConfig, parseCoherenceConfig } from "../../../actors/coherence/config.ts";

const test = suite("coherence machine");

const config: CoherenceConfig = parseCoherenceConfig({
  coherent_enter: 1,
  coherent_exit: 0.5,
  fragmented_enter: -1,
  fragmented_exit: -0.5,
});

function frame(ts: number, shift: number, ready = true): CoherenceFrameEvent {
  return {
    type: "frame",
    ts,
    ratio: 0.4 + 0.01 * shift,
    shift,
    ready,
    channels: 10,
    top: 2,
    topChannels: [{ channel: "a", loading: 0.6 }, { channel: "b", loading: -0.3 }],
  };
}

function start(cfg = config, snapshot?: unknown) {
  const events: CoherenceEmitted[] = [];
  const options = snapshot === undefined
    ? { input: { key: "equities", config: cfg } }
    : { input: { key: "equities", config: cfg }, snapshot: snapshot as never };
  const actor = createActor(coherenceMachine, options);
  actor.on("coherence", (e) => events.push(e));
  actor.start();
  return { actor, events };
}

/** Sends shifts at ts = 0, 1, 2, ... and returns the states after each. */
function drive(shifts: number[], cfg = config) {
  const { actor, events } = start(cfg);
  const states = shifts.map((shift, ts) => {
    actor.send(frame(ts, shift));
    return actor.getSnapshot().value as string;
  });
  actor.stop();
  return { states, events };
}

test("normal turns coherent at coherent_enter and stays until the shift falls to coherent_exit", () => {
  const { states, events } = drive([0.2, 0.99, 1, 0.8, 0.51, 0.9, 0.5, 0.7]);
  assert.equal(states, [
    "normal",
    "normal",
    "coherent",
    "coherent",
    "coherent",
    "coherent",
    "normal",
    "normal",
  ]);
  assert.equal(events.map((e) => [e.ts, e.from, e.state]), [[2, "normal", "coherent"], [
    6,
    "coherent",
    "normal",
  ]]);
  assert.equal(events[0], {
    type: "coherence",
    ts: 2,
    group: "equities",
    state: "coherent",
    from: "normal",
    ratio: 0.4 + 0.01,
    shift: 1,
    topChannels: [{ channel: "a", loading: 0.6 }, { channel: "b", loading: -0.3 }],
  });
});

test("normal turns fragmented at fragmented_enter and back at fragmented_exit", () => {
  const { states, events } = drive([-0.9, -1.2, -0.8, -0.6, -0.5, -0.9]);
  assert.equal(states, ["normal", "fragmented", "fragmented", "fragmented", "normal", "normal"]);
  assert.equal(events.map((e) => [e.ts, e.from, e.state]), [
    [1, "normal", "fragmented"],
    [4, "fragmented", "normal"],
  ]);
});

test("a shift jumping across both bands moves straight between coherent and fragmented", () => {
  const { states, events } = drive([2, -3, 4]);
  assert.equal(states, ["coherent", "fragmented", "coherent"]);
  assert.equal(events.map((e) => `${e.from}>${e.state}`), [
    "normal>coherent",
    "coherent>fragmented",
    "fragmented>coherent",
  ]);
});

test("frames before warm-up or with an undefined shift change nothing", () => {
  const { actor, events } = start();
  actor.send(frame(0, 5, false));
  actor.send(frame(1, NaN));
  actor.send(frame(2, Infinity));
  actor.send({ type: "tick", ts: 3 });
  assert.is(actor.getSnapshot().value, "normal");
  assert.is(events.length, 0);
  actor.send(frame(4, 5));
  assert.is(actor.getSnapshot().value, "coherent");
  assert.is(actor.getSnapshot().context.changes, 1);
  actor.stop();
});

test("a config event moves the thresholds at run time", () => {
  const { actor, events } = start();
  actor.send({ type: "config", config: { ...config, coherent_enter: 3, coherent_exit: 2 } });
  actor.send(frame(0, 2.5));
  assert.is(actor.getSnapshot().value, "normal");
  actor.send(frame(1, 3));
  actor.send(frame(2, 2.5));
  assert.is(actor.getSnapshot().value, "coherent");
  actor.send(frame(3, 2));
  assert.is(actor.getSnapshot().value, "normal");
  assert.is(events.length, 2);
  actor.stop();
});

test("a persisted snapshot, through JSON, resumes with the same state and thresholds", () => {
  const shifts = [0, 1.5, 0.7, 0.6, -2, -0.7, -0.4, 1.1, 0.2];
  const whole = drive(shifts);
  const cut = 4;
  const first = start();
  shifts.slice(0, cut).forEach((s, ts) => first.actor.send(frame(ts, s)));
  const saved = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()));
  first.actor.stop();
  const second = start(config, saved);
  shifts.slice(cut).forEach((s, i) => second.actor.send(frame(cut + i, s)));
  assert.equal([...first.events, ...second.events], whole.events);
  assert.is(second.actor.getSnapshot().context.changes, whole.events.length);
  second.actor.stop();
});

test.run();
