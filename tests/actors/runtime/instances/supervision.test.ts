import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  addSkip,
  type FailureHistory,
  isPoison,
  isSkipped,
  newSlot,
  recordFailure,
  type SupervisionOptions,
} from "../../../../actors/runtime/instances/mod.ts";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";

const test = suite("supervision");

const options: SupervisionOptions = {
  backoffMsBase: 100,
  backoffMsMax: 10_000,
  failuresMax: 20,
  failureWindowMs: 60_000,
  inputFailuresMax: 3,
  crashAttemptsMax: 2,
};

function fresh(): FailureHistory {
  return { failures: [], inputFailures: undefined, failedInputMax: -1 };
}

function delay(h: FailureHistory, at: { pos: number; nowMs: number; input?: number }): number {
  const d = recordFailure(h, at, options);
  if (d.stop) throw new Error(`stopped after ${d.failures} failures`);
  return d.delayMs;
}

test("a slot makes its failure counts and skips at the first: a new one holds neither", () => {
  const slot = newSlot(ACTOR_KINDS.stats!, "k", {} as never);
  assert.is(slot.inputFailures, undefined);
  assert.is(slot.skips, undefined);
  assert.not.ok(isSkipped(slot, 3));
  addSkip(slot, 3);
  assert.ok(isSkipped(slot, 3));
  assert.not.ok(isSkipped(slot, 4));
  assert.not.ok(isPoison(slot, 5, options));
  assert.not.ok(isPoison(slot, 5, options));
  assert.ok(isPoison(slot, 5, options));
  assert.not.ok(isPoison(slot, 6, options));
});

test("failures on one input double the backoff, up to its maximum", () => {
  const h = fresh();
  const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => delay(h, { pos: 7, nowMs: 1000 * i }));
  assert.equal(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
});

test("a failure at a later input than every earlier one starts the backoff again", () => {
  // An instance catching up on a long journal, one input in a hundred failing once: each
  // rebuild fails further on (the rebuild's error names the input; its own position is -1).
  const h = fresh();
  const inputs = [3403, 3449, 3563, 3602, 3609, 3776, 3974, 4138, 4163, 4315];
  const delays = inputs.map((input, i) => delay(h, { pos: -1, nowMs: 1000 * i, input }));
  assert.equal(delays, inputs.map(() => 100));
  // Failing again where it failed before is a loop: the backoff doubles with the window's count.
  assert.is(delay(h, { pos: 4315, nowMs: 10_000 }), 10_000);
  assert.is(delay(h, { pos: -1, nowMs: 11_000 }), 10_000); // a failure naming no input
  assert.is(h.failures.length, 12);
  // What stops an instance is still the window's count.
  const stop = recordFailure(h, { pos: 9999, nowMs: 12_000 }, { ...options, failuresMax: 13 });
  assert.equal(stop, { stop: true, failures: 13 });
});

test.run();
