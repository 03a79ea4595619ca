/**
 * `--faults all` takes the lease faults and a host's own file journal's (disk) together: each
 * seed chooses its cluster's shape from the seed (sim/faults.ts seedShape), leased with pause,
 * skew and cut, or static with disk. A leased seed of `all` runs exactly as `--faults lease` does
 * and a static one as `all` did before it took leases (network,disk,actor): the traces are the
 * same but for the first line, which says the shape. So the seeds of `all` keep what each
 * shape's own runs found.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { parseFaults, seedShape } from "../../sim/faults.ts";
import { simulate } from "../../sim/simulator.ts";

const test = suite("simulator: mixed faults");

test("a mixed set's seeds choose their shape from the seed, both shapes about half of them", () => {
  const all = parseFaults("all").set;
  let leased = 0;
  for (let seed = 1; seed <= 1000; seed++) {
    const { set, shape } = seedShape(seed, all);
    assert.is(shape === "leased", set.pause && set.skew && set.cut, `seed ${seed}`);
    assert.is(shape === "static", set.disk, `seed ${seed}`);
    assert.ok(set.network && set.crash && set.actor, `seed ${seed}`);
    if (shape === "leased") leased++;
  }
  assert.ok(leased > 450 && leased < 550, `${leased} of 1000 seeds leased`);
  assert.equal(seedShape(1, all), seedShape(1, all));
  assert.equal(seedShape(5, parseFaults("lease").set).shape, "leased");
  assert.equal(seedShape(5, parseFaults("disk").set).shape, "static");
});

const shapes = [[1, "leased", "lease"], [2, "static", "network,disk,actor"]] as const;
for (const [seed, shape, same] of shapes) {
  test(`seed ${seed} --faults all is ${shape}: the trace of --faults ${same} but its first line`, async () => {
    const options = { seed, durationS: 1, actors: [ACTOR_KINDS.stats!] };
    const mixed = await simulate({ ...options, faults: parseFaults("all") });
    const alone = await simulate({ ...options, faults: parseFaults(same) });
    assert.ok(mixed.ok, JSON.stringify(mixed.violations.slice(0, 5)));
    assert.match(mixed.trace[0]!, new RegExp(` faults=all shape=${shape} `));
    assert.is(
      mixed.trace[0]!.replace(`faults=all shape=${shape}`, `faults=${same}`),
      alone.trace[0],
    );
    assert.equal(mixed.trace.slice(1), alone.trace.slice(1));
    assert.is(mixed.command, `troupe sim --seed ${seed} --faults all --duration 1 --actors stats`);
    const s = mixed.stats;
    if (shape === "leased") assert.ok(s.pauses + s.cuts > 0 && s.journalRecordsLost === 0);
    else assert.ok(s.pauses + s.cuts === 0 && s.crashes > 0);
  });
}

test.run();
