/**
 * ColdStartSettle: a cold start's claims wait until the live hosts stay the same for the settle,
 * at most its cap; partitions held (or unreadable) end the wait at once.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ColdStartSettle, type LeaseView } from "../../../../actors/runtime/cluster/mod.ts";
import { decodePartitionLease, encodePartitionLease } from "../../../../protocol/mod.ts";

const test = suite("cold start settle");
const cold: LeaseView = { leases: new Map(), hosts: [], damaged: [] };

test("waits until the hosts seen stay the same for the settle, a new one starting it again", () => {
  const s = new ColdStartSettle(1_000, 5_000);
  assert.equal(s.look(cold, ["a"], 0), { claim: false, first: true });
  assert.equal(s.look(cold, ["a"], 500), { claim: false, first: false });
  assert.equal(s.look(cold, ["b", "a"], 900), { claim: false, first: false }, "b arrived");
  assert.equal(s.look(cold, ["a", "b"], 1_500), { claim: false, first: false }, "the same two");
  assert.equal(s.look(cold, ["a", "b"], 1_900), { claim: true, waitedMs: 1_900, hosts: 2 });
  assert.ok(s.done);
  assert.equal(s.look(cold, ["a", "b", "c"], 2_000), { claim: true }, "over for good");
});

test("ends at its cap however often hosts come", () => {
  const s = new ColdStartSettle(1_000, 2_000);
  let claim = false, t = 0;
  for (; !claim && t <= 10_000; t += 500) {
    claim = s.look(cold, [`h${t}`], t).claim;
  }
  assert.ok(claim);
  assert.is(t - 500, 2_000, "claims at the cap");
});

test("a cluster whose partitions are held, or unreadable, ends the wait at once; 0 never waits", () => {
  const held: LeaseView = {
    ...cold,
    leases: new Map([[3, {
      lease: decodePartitionLease(
        encodePartitionLease({ partition: 3, owner: "a", epoch: 1, renewedMs: 0 }),
        "lease",
      ),
      revision: 1,
    }]]),
  };
  assert.equal(new ColdStartSettle(1_000, 5_000).look(held, ["a", "b"], 0), { claim: true });
  const damaged = { ...cold, damaged: [{ key: "partition.3", reason: "bad" }] };
  assert.equal(new ColdStartSettle(1_000, 5_000).look(damaged, ["b"], 0), { claim: true });
  const off = new ColdStartSettle(0, 5_000);
  assert.ok(off.done);
  assert.equal(off.look(cold, ["a"], 0), { claim: true });
});

test.run();
