/**
 * The simulator with hosts that snapshot at a stop only the instances with 5 inputs since their
 * last snapshot, as `troupe run` does: a clean stop leaves inputs journaled past snapshots, and
 * the next start applies them as each instance is restored (at its first use or by the background
 * pass: actors/runtime/recovery/deferred_tails.ts), under every fault of a static cluster and of a
 * leased one. The seeds keep every invariant, and their starts leave such inputs.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { parseFaults } from "../../sim/faults.ts";
import { simulate } from "../../sim/simulator.ts";

const test = suite("simulator: snapshots only where 5 inputs came");

const LEFT = "whose outputs went out before the last stop";

// Seeds whose clean restarts leave inputs past snapshots in 4 virtual seconds, one a shape.
for (const [faults, seed] of [["all", 1], ["lease", 2]] as const) {
  test(`seed ${seed} of ${faults} keeps the invariants with inputs left past snapshots`, async () => {
    const r = await simulate({
      seed,
      faults: parseFaults(faults),
      durationS: 4,
      actors: Object.values(ACTOR_KINDS),
      snapshotMinInputs: 5,
    });
    assert.equal(r.violations, []);
    const left = r.trace.filter((l) => l.includes(LEFT));
    assert.ok(left.length > 0, "no start left inputs past a snapshot: the path is not reached");
  });
}

test.run();
