import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  describeLoss,
  type JournalLoss,
  JournalLossError,
  planLossRebuild,
} from "../../../../actors/runtime/journal/journal_loss.ts";

const test = suite("journal_loss");

const mid: JournalLoss = { stream: "stats/a", from: 30, to: 31, srcAfter: 88, init: false };
const head: JournalLoss = { stream: "stats/b", from: 1, to: 4, srcAfter: 0, init: true };
const old: JournalLoss = { stream: "stats/c", from: 9, to: 9, srcAfter: 12, init: false };

test("planLossRebuild() rebuilds what the input still holds and resumes after the lowest loss", () => {
  const plan = planLossRebuild([mid, old], { firstSrcPos: 1, accept: false });
  assert.equal(plan.rebuilt, [mid, old]);
  assert.equal(plan.accepted, []);
  assert.is(plan.resumeAfter, 12);
});

test("planLossRebuild() refuses losses without positions, with the configuration or past the input's first position, naming each", () => {
  const cases: Array<[JournalLoss[], number | undefined, RegExp]> = [
    [[mid], undefined, /keeps no positions.*stats\/a: inputs 30-31 \(2\) after source position 88/],
    [[head], 1, /stats\/b: inputs 1-4 \(4\), with its starting configuration/],
    [
      [old, mid],
      20,
      /1 run of inputs.*holds source positions from 20 on\): stats\/c: input 9 after/,
    ],
  ];
  for (const [losses, firstSrcPos, message] of cases) {
    try {
      planLossRebuild(losses, { firstSrcPos, accept: false });
      assert.unreachable("refused");
    } catch (err) {
      assert.instance(err, JournalLossError);
      assert.match((err as Error).message, message);
      assert.match((err as Error).message, /--accept-journal-loss/);
    }
  }
});

test("planLossRebuild() with accept goes on over what it cannot rebuild, and still rebuilds the rest", () => {
  const plan = planLossRebuild([old, mid], { firstSrcPos: 20, accept: true });
  assert.equal(plan.rebuilt, [mid]);
  assert.equal(plan.accepted, [old]);
  assert.is(plan.resumeAfter, 88);
  assert.is(describeLoss(old), "stats/c: input 9 after source position 12");
});

test.run();
