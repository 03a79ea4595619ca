/**
 * The example kinds (examples/) under the simulator with every fault, as `troupe sim --seeds 100
 * --faults all --kinds examples/zscore/zscore.ts,examples/spread/spread.ts --actors zscore,spread`
 * runs them: crashes, lost fsyncs, duplicates, reordering, partitions and takeovers, and the
 * outputs equal to a fault-free run's. A few seeds here; the command runs the hundred.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simulate } from "../../sim/mod.ts";
import { zscore } from "../../examples/zscore/zscore.ts";
import { spread } from "../../examples/spread/spread.ts";

const test = suite("examples under the simulator");

test("the example kinds pass seeds 1 to 5 with every fault", async () => {
  for (let seed = 1; seed <= 5; seed++) {
    const r = await simulate({ seed, actors: [zscore, spread], keepTrace: false });
    assert.ok(r.ok, `seed ${seed}: ${JSON.stringify(r.violations.slice(0, 2))} (${r.command})`);
  }
});

test.run();
