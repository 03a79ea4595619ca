import { suite } from "uvu";
import * as assert from "uvu/assert";
import { assignPartitions } from "../../../../actors/runtime/cluster/lease_assignment.ts";

const test = suite("lease assignment");

function counts(owners: Array<string | undefined>): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of owners) if (o !== undefined) m.set(o, (m.get(o) ?? 0) + 1);
  return m;
}

test("assignPartitions() shares partitions evenly: each host floor(count/hosts) or one more", () => {
  for (const [count, hosts] of [[16, 3], [64, 4], [7, 7], [5, 8], [1, 2]] as const) {
    const names = Array.from({ length: hosts }, (_, i) => `host-${i}`);
    const owners = assignPartitions(count, names);
    assert.ok(owners.every((o) => o !== undefined), `${count}/${hosts}: every partition owned`);
    for (const n of counts(owners).values()) {
      assert.ok(
        n === Math.floor(count / hosts) || n === Math.ceil(count / hosts),
        `${count}/${hosts}: ${n}`,
      );
    }
  }
  assert.equal(assignPartitions(3, []), [undefined, undefined, undefined]);
});

test("assignPartitions() is the same whatever order the hosts are listed in", () => {
  assert.equal(assignPartitions(32, ["c", "a", "b"]), assignPartitions(32, ["a", "b", "c", "a"]));
});

test("assignPartitions() moves few partitions when a host leaves or joins", () => {
  const three = assignPartitions(16, ["h1", "h2", "h3"]);
  const two = assignPartitions(16, ["h1", "h2"]);
  // A leaving host's partitions move; of the survivors', at most a rebalancing few.
  const moved = three.filter((o, p) => o !== "h3" && two[p] !== o).length;
  assert.ok(moved <= 2, `survivors' partitions moved when h3 left: ${moved}`);
  const four = assignPartitions(16, ["h1", "h2", "h3", "h4"]);
  const joined = three.filter((o, p) => four[p] !== o).length;
  assert.is(joined, four.filter((o) => o === "h4").length, "only what h4 takes moves");
});
test.run();
