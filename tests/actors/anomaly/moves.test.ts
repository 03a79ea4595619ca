/**
 * The increment view's higher orders (actors/anomaly/_moves.ts): a move's class, and the bits of
 * the longest context of the moves before it that was met, by the Witten–Bell escape.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defaultAnomalyConfig } from "../../../actors/anomaly/mod.ts";
import { moveClass, observeMoves } from "../../../actors/anomaly/_moves.ts";
import { CONTEXTS_PER_GRID, createAnomalyState } from "../../../actors/anomaly/_state.ts";

const test = suite("anomaly moves' contexts");

test("a move's class: calm under one mean absolute change, up, down, a jump past six", () => {
  assert.equal([0, 0.99, -0.99, 1, -1, 5.9, -5.9, 6, -6, 1e9].map(moveClass), [
    0,
    0,
    0,
    1,
    2,
    1,
    2,
    3,
    4,
    3,
  ]);
});

test("the bits come from the longest context met before; -1 where none was", () => {
  const st = createAnomalyState(defaultAnomalyConfig);
  const grid = 0;
  assert.is(observeMoves(st, grid, -1, -1, 5), -1, "no move before: no context");
  assert.is(observeMoves(st, grid, -1, 0, 5), -1, "after calm, first met: not used");
  assert.is(observeMoves(st, grid, -1, 0, 5), 0, "after calm, the bin held: 0 bits");
  // After calm: 2 samples in 1 bin, so a new bin costs -log2((1 + 1) / (2 + 1 + 1)) = 1 bit.
  assert.is(observeMoves(st, grid, -1, 0, 6), 1);
  // After a jump up then calm: that pair is new, so the context after calm alone answers (3
  // samples in 2 bins: -log2(3 / 6) = 1 bit for a new bin)...
  assert.is(observeMoves(st, grid, 3, 0, 9), 1);
  // ... and once the pair was met, it answers: 1 sample in 1 bin, -log2(2 / 3) for a new bin.
  assert.ok(Math.abs(observeMoves(st, grid, 3, 0, 10) - -Math.log2(2 / 3)) < 1e-3);
  assert.is(observeMoves(st, grid, 3, 0, 10), 0, "the pair holds bin 10 now");
  // The next grid's contexts are its own.
  assert.is(observeMoves(st, CONTEXTS_PER_GRID, -1, 0, 5), -1);
});

test.run();
