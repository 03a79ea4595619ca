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
  // Moves with a kind's save format (the anomaly kind's 27): the trace holds a hash of every
  // instance's saved state (its two lines of them, nothing else). And with where a host's input
  // resumes: at the run's last restart, the three hosts fetch from where a snapshot of their
  // edge's decisions noted every input journaled (61, 61, 58), above the lowest position an
  // instance took (54, 56, 55). And with the rounds that save that snapshot alone: the last clean
  // stop ends at 4.025512 s, not 4.024848 (the stop waits for such a save under way), in 496
  // scheduler steps, not 493 (one a host), every line else the same.
  assert.is(r.traceHash, "dc44a5ff39e9a061273a59889eed985e6c472f501939e5af52471c8c7dca3a1a");
});

test.run();
