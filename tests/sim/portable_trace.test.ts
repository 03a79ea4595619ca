/**
 * A simulation's trace is the same on every runtime, not only from run to run: the feed, the
 * Prng and the kernels use portable arithmetic (actors/math/portable_math.ts), so a failing seed found
 * on Node reproduces on Deno byte for byte. The hash below was computed once, and again when a
 * kernel changed or a kind joined ACTOR_KINDS (last: collapse, whose defaults moved to a hazard
 * of 3/10,000, a slope prior of 0.1 and a new regime's slope carried from the channel's trend,
 * issue 14), the same on Node and Deno.
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
  assert.is(r.traceHash, "e6d82c339f283b10cf4fd48e9cd3f1c136f3f77c555d02a7adf679e23ad91cfd");
});

test.run();
