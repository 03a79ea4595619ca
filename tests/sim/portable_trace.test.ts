/**
 * A simulation's trace is the same on every runtime, not only from run to run: the feed, the
 * Prng and the kernels use portable arithmetic (actors/math/portable_math.ts), so a failing seed found
 * on Node reproduces on Deno byte for byte. The hash below moves whenever the trace's bytes do: a
 * kernel's outputs or state format, a kind joining ACTOR_KINDS, the fault set of `all`, or the
 * order of the host's asynchronous steps; the commit that moves it says why. It is the same on Node
 * and Deno.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { simulate } from "../../sim/simulator.ts";
import { parseFaults } from "../../sim/faults.ts";

const test = suite("portable trace");

test("seed 3 with every actor kind and every fault gives the same trace hash on every runtime", async () => {
  const r = await simulate({
    seed: 3,
    faults: parseFaults("all"),
    durationS: 3,
    actors: Object.values(ACTOR_KINDS),
  });
  assert.equal(r.violations, []);
  // Moves with a kind's save format (the anomaly kind's 24): the trace holds a hash of every
  // instance's saved state.
  assert.is(r.traceHash, "6d882f405d99ac120ea4c2b77af07cc82fef97bed48599ff9ff25526bd783c71");
});

test.run();
