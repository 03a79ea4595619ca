import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createActor } from "xstate";
import {
  type CoherenceChange,
  type CoherenceEmitted,
  coherenceMachine,
  type CoherencePhase,
  nextPhase,
} from "../../../actors/coherence/mod.ts";
import { type CoherenceConfig, parseCoherenceConfig } from "../../../actors/coherence/config.ts";

const test = suite("coherence phase and machine");

const config: CoherenceConfig = parseCoherenceConfig({
  coherent_enter: 1,
  coherent_exit: 0.5,
  fragmented_enter: -1,
  fragmented_exit: -0.5,
});

/** The phases after each shift, from normal. */
function phases(shifts: number[], cfg = config): CoherencePhase[] {
  let phase: CoherencePhase = "normal";
  return shifts.map((shift) => (phase = nextPhase(phase, shift, cfg)));
}

test("normal turns coherent at coherent_enter and stays until the shift falls to coherent_exit", () => {
  assert.equal(phases([0.2, 0.99, 1, 0.8, 0.51, 0.9, 0.5, 0.7]), [
    "normal",
    "normal",
    "coherent",
    "coherent",
    "coherent",
    "coherent",
    "normal",
    "normal",
  ]);
});

test("normal turns fragmented at fragmented_enter and back at fragmented_exit", () => {
  assert.equal(phases([-0.9, -1.2, -0.8, -0.6, -0.5, -0.9]), [
    "normal",
    "fragmented",
    "fragmented",
    "fragmented",
    "normal",
    "normal",
  ]);
});

test("a shift jumping across both bands moves straight between coherent and fragmented", () => {
  assert.equal(phases([2, -3, 4]), ["coherent", "fragmented", "coherent"]);
});

test("an undefined shift changes nothing; other thresholds move the phase elsewhere", () => {
  assert.equal(phases([NaN, Infinity, -Infinity, 5]), ["normal", "normal", "normal", "coherent"]);
  const raised = { ...config, coherent_enter: 3, coherent_exit: 2 };
  assert.equal(phases([2.5, 3, 2.5, 2], raised), ["normal", "coherent", "coherent", "normal"]);
});

function change(ts: number, from: CoherencePhase, to: CoherencePhase): CoherenceChange {
  return {
    ts,
    from,
    to,
    ratio: 0.4 + ts / 100,
    shift: ts,
    topChannels: [{ channel: "a", loading: 0.6 }, { channel: "b", loading: -0.3 }],
  };
}

function start(snapshot?: unknown) {
  const events: CoherenceEmitted[] = [];
  const options = snapshot === undefined
    ? { input: { key: "equities", config } }
    : { input: { key: "equities", config }, snapshot: snapshot as never };
  const actor = createActor(coherenceMachine, options);
  actor.on("coherence", (e) => events.push(e));
  actor.start();
  return { actor, events };
}

test("the machine announces every change of a frame in order and takes the last one's phase", () => {
  const { actor, events } = start();
  actor.send({
    type: "frame",
    changes: [change(1, "normal", "coherent"), change(2, "coherent", "fragmented")],
  });
  assert.is(actor.getSnapshot().value, "fragmented");
  actor.send({ type: "tick", ts: 3 });
  actor.send({ type: "frame", changes: [] });
  assert.is(actor.getSnapshot().value, "fragmented");
  actor.send({ type: "frame", changes: [change(4, "fragmented", "normal")] });
  assert.is(actor.getSnapshot().value, "normal");
  assert.equal(events.map((e) => [e.ts, e.from, e.state]), [
    [1, "normal", "coherent"],
    [2, "coherent", "fragmented"],
    [4, "fragmented", "normal"],
  ]);
  assert.equal(events[0], {
    type: "coherence",
    ts: 1,
    group: "equities",
    state: "coherent",
    from: "normal",
    ratio: 0.4 + 1 / 100,
    shift: 1,
    top_channels: [{ channel: "a", loading: 0.6 }, { channel: "b", loading: -0.3 }],
  });
  assert.is(actor.getSnapshot().context.changes, 3);
  actor.stop();
});

test("a persisted snapshot, through JSON, resumes with the same state and count", () => {
  const first = start();
  first.actor.send({ type: "frame", changes: [change(1, "normal", "coherent")] });
  first.actor.send({ type: "config", config: { ...config, coherent_enter: 3, coherent_exit: 2 } });
  const saved = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()));
  first.actor.stop();
  const second = start(saved);
  assert.is(second.actor.getSnapshot().value, "coherent");
  assert.is(second.actor.getSnapshot().context.config.coherent_enter, 3);
  second.actor.send({ type: "frame", changes: [change(2, "coherent", "normal")] });
  assert.is(second.actor.getSnapshot().value, "normal");
  assert.is(second.actor.getSnapshot().context.changes, 2);
  second.actor.stop();
});

test.run();
