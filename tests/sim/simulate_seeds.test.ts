/**
 * simulateSeeds() runs seeds one after another (each twice with the determinism check) and
 * simSummary() sums what they gave, as `troupe sim --seeds N --json` prints it; a seed that breaks
 * an invariant is a failure with its reproducing command.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../actors/stats/mod.ts";
import {
  leaseTotals,
  parseFaults,
  type SeedOutcome,
  seedPassed,
  simSummary,
  simulateSeeds,
} from "../../sim/mod.ts";

const test = suite("simulate seeds");

// A few virtual seconds of the stats kind alone: quick on both runtimes.
const base = { durationS: 2, actors: [statsActor], faults: parseFaults("crash") };

test("simulateSeeds() runs each seed in order, twice when asked, and reports each as it ends", async () => {
  const seen: Array<[number, number]> = [];
  const outcomes = await simulateSeeds([7, 8], base, {
    checkDeterminism: true,
    onSeed: (o, done) => seen.push([o.result.seed, done]),
  });
  assert.equal(seen, [[7, 1], [8, 2]]);
  assert.equal(outcomes.map((o) => o.result.seed), [7, 8]);
  for (const o of outcomes) {
    assert.is(o.nondeterministic, undefined);
    assert.ok(seedPassed(o), JSON.stringify(o.result.violations));
  }
  const summary = simSummary(outcomes, { base, checkDeterminism: true, elapsedS: 1.5 });
  assert.is(summary.faults, "crash");
  assert.is(summary.durationS, 2);
  assert.is(summary.hosts, 3, "the default filled in");
  assert.is(summary.seedsRun, 2);
  assert.is(summary.passed, 2);
  assert.is(summary.failed, 0);
  assert.is(summary.elapsedS, 1.5);
  assert.equal(summary.failures, []);
  assert.is(summary.result, undefined, "many seeds: no single result");
  const crashes = outcomes[0]!.result.stats.crashes + outcomes[1]!.result.stats.crashes;
  assert.is(summary.totals.crashes, crashes);
});

test("simSummary() lists a failed seed with its command, and a single seed's result", async () => {
  const quiet = { ...base, faults: parseFaults("none") };
  const [ran] = await simulateSeeds([3], quiet);
  // The same run, found nondeterministic: a failure, though its invariants held.
  const failed: SeedOutcome = { result: ran!.result, nondeterministic: "the traces differ" };
  assert.not.ok(seedPassed(failed));
  const summary = simSummary([failed], { base: quiet, checkDeterminism: true, elapsedS: 2 });
  assert.is(summary.faults, "none");
  assert.is(summary.failed, 1);
  assert.is(summary.failures[0]!.nondeterministic, "the traces differ");
  assert.is(
    summary.failures[0]!.command,
    "troupe sim --seed 3 --faults none --duration 2 --actors stats --check-determinism",
  );
  assert.is(summary.result?.seed, 3);
  assert.equal(leaseTotals([failed, failed]).crashes, 0);
});

test.run();
