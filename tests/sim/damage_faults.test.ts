/**
 * The simulator's `damage` fault: while a crashed host is down, one record of one of its
 * instances' journals is damaged between intact records (bytes flipped inside a segment). The
 * restarted host finds the hole, voids the records after it and applies every input from the hole
 * on again, in order, from the feed log, as a real host does; every invariant holds, outputs and
 * state included. A host whose rebuild leaves the records after the hole in force (`drop_void`)
 * or that accepts a loss its input could give back (`accept_damage`) is caught. Runs without the
 * fault keep their traces (portable_trace.test.ts).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FAULT_KINDS, parseFaults } from "../../sim/faults.ts";
import type { InvariantName } from "../../sim/invariants.ts";
import { type Sabotage, simulate } from "../../sim/simulator.ts";

const test = suite("simulator: journal damage");

test("parseFaults() names the damage fault, a crash fault, outside `all`", () => {
  assert.ok((FAULT_KINDS as readonly string[]).includes("damage"));
  const d = parseFaults("damage");
  assert.equal(d.set, {
    network: false,
    crash: true,
    disk: false,
    actor: false,
    duplicate: false,
    damage: true,
    pause: false,
    skew: false,
    cut: false,
  });
  assert.is(d.name, "damage");
  assert.is(parseFaults("all,damage").name, "all,damage");
  assert.is(parseFaults("crash,damage").name, "damage");
  assert.is(parseFaults("all").set.damage, false, "`all` takes damage only by name");
});

for (const [seed, faults] of [[1, "damage"], [2, "all,damage"], [7, "all,damage"]] as const) {
  test(`seed ${seed} --faults ${faults}: damaged journals are rebuilt in order and every invariant holds`, async () => {
    const r = await simulate({ seed, faults: parseFaults(faults), durationS: 10 });
    assert.ok(r.ok, JSON.stringify(r.violations.slice(0, 5)));
    const damaged = r.trace.filter((l) => /crash #\d+ .*damaged \S+ record \d+/.test(l));
    assert.is(damaged.length, r.stats.journalRecordsDamaged);
    assert.ok(r.stats.journalRecordsDamaged > 0, "records damaged");
    // Some damage lay past a snapshot: the host found the hole and rebuilt from the feed log.
    const voided = r.trace.filter((l) => / log \S+: positions \d+-\d+ voided /.test(l));
    assert.ok(voided.length > 0, "a rebuild");
    assert.ok(
      r.trace.some((l) => / log journal lost .* reading them again from the input/.test(l)),
    );
  });
}

const caught: Array<[Sabotage, InvariantName[]]> = [
  ["drop_void", ["recovery_equals_replay", "no_input_applied_twice"]],
  ["accept_damage", ["outputs_equal_fault_free", "recovery_equals_replay"]],
];
for (const [sabotage, invariants] of caught) {
  test(`the ${sabotage} sabotage is caught (${invariants.join(", ")})`, async () => {
    const r = await simulate({ seed: 1, faults: parseFaults("damage"), durationS: 10, sabotage });
    assert.not.ok(r.ok, "the run fails");
    const found = new Set(r.violations.map((v) => v.invariant));
    for (const invariant of invariants) assert.ok(found.has(invariant), [...found].join(", "));
  });
}

test.run();
