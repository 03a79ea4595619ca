/**
 * A simulation's trace is the same on every runtime, not only from run to run: the feed, the
 * Prng and the kernels use portable arithmetic (actors/math/portable_math.ts), so a failing seed found
 * on Node reproduces on Deno byte for byte. The hash below was computed once, and again when a
 * kernel changed or a kind joined ACTOR_KINDS (last: collapse, whose state format 9 has one more
 * header slot, for noise_half_life_samples: the snapshots' bytes moved, the outputs did not; issue
 * 14; then `all` took the lease faults, and its first line says seed 3's cluster shape, static:
 * only that line moved; issue 32; then the coherence shift's baseline, held through pending episodes
 * and Huber-bounded, and the anomaly incident's clear_samples 100 -> 30: issue 29; then the anomaly
 * band sent as its half-width and saved so, state format 13: issue 33; then the anomaly shift
 * view's accepted level from its recent residuals, state format 15: issue 30's thirteenth round;
 * then a new high inside the anomaly forecast's 3 sds no longer 1 outright: its fifteenth; then
 * the anomaly walk test at the channel's age and the increment view against the very recent
 * volatility: its market round; then the host's recovery at start moved into a function of its own,
 * one more asynchronous step before the host starts consuming: the feed fetches and recovery
 * checks at 0 s come in another order and later events move in time, the same outputs; then the
 * anomaly shift view, walk test and calibration removed, state format 19: issue 54; then the
 * anomaly increment view's contexts of the moves before it, state format 20: issue 54 again), the
 * same on Node and Deno.
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
  assert.is(r.traceHash, "9244aeb693616bd71165e59bdb9bfd2373f68cb1c68710954e1e94f9764468ba");
});

test.run();
