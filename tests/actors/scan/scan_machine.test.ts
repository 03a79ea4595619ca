import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createActor } from "xstate";
import { type ScanEvent, scanMachine } from "../../../actors/scan/mod.ts";

const test = suite("scanMachine");

function run(input: { chunks: number; max_signals: number | null }, events: ScanEvent[]) {
  const actor = createActor(scanMachine, {
    input: { scanId: "s", symbols: input.chunks * 10, ...input },
  });
  actor.start();
  const states: unknown[] = [];
  for (const e of events) {
    actor.send(e);
    states.push(actor.getSnapshot().value);
  }
  const snap = actor.getSnapshot();
  actor.stop();
  return { states, context: snap.context, status: snap.status };
}

const chunk = (c: number, signals: number, ts: number): ScanEvent => ({
  type: "chunk",
  chunk: c,
  symbols: 10,
  signals,
  insufficient: 1,
  unknown: 0,
  ts,
});

test("queued -> running -> done when every chunk is in; a chunk counted twice is counted once", () => {
  const r = run({ chunks: 3, max_signals: null }, [
    { type: "start", ts: 100 },
    chunk(1, 0, 110),
    chunk(1, 5, 115),
    chunk(0, 2, 120),
    chunk(2, 1, 130),
  ]);
  assert.equal(r.states, ["running", "running", "running", "running", "done"]);
  assert.is(r.status, "done");
  const c = r.context;
  assert.equal([c.chunks_done, c.symbols_done, c.signals, c.insufficient], [3, 30, 3, 3]);
  assert.equal([c.started_ts, c.first_result_ts, c.ended_ts], [100, 120, 130]);
});

test("max_signals, a timeout or a stop request: stopping, then stopped once drained", () => {
  const max = run({ chunks: 5, max_signals: 3 }, [
    { type: "start", ts: 1 },
    chunk(0, 3, 2),
    chunk(1, 4, 3),
    { type: "drained", ts: 4 },
  ]);
  assert.equal(max.states, ["running", "stopping", "stopping", "stopped"]);
  assert.is(max.context.stop_reason, "max_signals");
  assert.is(max.context.signals, 3, "a chunk after the stop is not counted");
  assert.is(max.context.ended_ts, 4);
  const timeout = run({ chunks: 5, max_signals: null }, [
    { type: "start", ts: 1 },
    { type: "stop", reason: "timeout", ts: 9 },
    { type: "drained", ts: 9 },
  ]);
  assert.equal(timeout.states, ["running", "stopping", "stopped"]);
  assert.is(timeout.context.stop_reason, "timeout");
  const queued = run({ chunks: 5, max_signals: null }, [{
    type: "stop",
    reason: "requested",
    ts: 1,
  }]);
  assert.equal(queued.states, ["stopped"]);
  assert.is(queued.context.stop_reason, "requested");
});

test("an empty universe is done at its start; a failure ends the scan with its error", () => {
  assert.equal(run({ chunks: 0, max_signals: null }, [{ type: "start", ts: 5 }]).states, ["done"]);
  const failed = run({ chunks: 2, max_signals: null }, [
    { type: "start", ts: 1 },
    { type: "fail", error: "journal full", ts: 2 },
    chunk(0, 1, 3),
  ]);
  assert.equal(failed.states, ["running", "failed", "failed"]);
  assert.is(failed.context.error, "journal full");
  assert.is(failed.context.chunks_done, 0);
  assert.is(failed.status, "done");
});

test.run();
