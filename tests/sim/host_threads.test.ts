/**
 * The simulator runs a host on several threads as `troupe run --threads N` does: partition p to
 * thread p mod N, each thread a Host with its own disk, consumer and recovery, the threads sharing
 * their process's crashes, stops and network partitions. Whatever N, a seed keeps the invariants
 * and ends in the same states with the same outputs as on one thread.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyActor } from "../../actors/anomaly/mod.ts";
import { partitionOf } from "../../actors/runtime/mod.ts";
import { statsActor } from "../../actors/stats/mod.ts";
import { parseFaults } from "../../sim/faults.ts";
import { type SimOptions, type SimResult, simulate } from "../../sim/simulator.ts";

const test = suite("simulator: a host on several threads");

// Seed 5 of `all` is a static cluster (its first trace line says so) with crashes, a clean
// restart and a network partition in its first virtual seconds.
const base = {
  seed: 5,
  faults: parseFaults("all"),
  durationS: 3,
  hosts: 2,
  actors: [statsActor, anomalyActor],
} satisfies SimOptions;

/** What a run ended with: the states' hash after the drain and after the clean restart. */
function states(r: SimResult): string[] {
  return r.trace.filter((l) => / state /.test(l)).map((l) => l.slice(l.indexOf(" state ") + 1));
}

/** The ids of every output published, once each. */
function outputs(r: SimResult): string[] {
  const ids = r.trace.filter((l) => / out /.test(l)).map((l) => l.split(" ")[3]!);
  return [...new Set(ids)].sort();
}

test("a seed on 2 and 3 threads keeps the invariants and ends as on 1 thread", async () => {
  const one = await simulate({ ...base, hostThreads: 1 });
  assert.equal(one.violations, []);
  assert.ok(one.trace[0]!.includes("shape=static"), one.trace[0]);
  assert.not.ok(one.trace[0]!.includes("threads="), one.trace[0]);
  assert.is(states(one).length, 2);
  assert.ok(one.stats.crashes > 0 && one.stats.restarts > one.stats.crashes, "faults");
  assert.ok(outputs(one).length > 50, `${outputs(one).length} outputs`);
  for (const hostThreads of [2, 3]) {
    const r = await simulate({ ...base, hostThreads });
    assert.equal(r.violations, [], `threads ${hostThreads}`);
    assert.ok(r.trace[0]!.endsWith(` threads=${hostThreads}`), r.trace[0]);
    assert.is(r.command, one.command.replace(" --actors", ` --threads ${hostThreads} --actors`));
    for (let t = 0; t < hostThreads; t++) {
      assert.ok(r.trace.some((l) => l.endsWith(` h1-t${t} start #1`)), `h1-t${t} started`);
    }
    assert.is(r.stats.crashes, one.stats.crashes, "the same crashes, of whole hosts");
    assert.is(r.stats.restarts, one.stats.restarts, "the same restarts");
    assert.equal(states(r), states(one), `threads ${hostThreads}: final states`);
    assert.equal(outputs(r), outputs(one), `threads ${hostThreads}: outputs`);
  }
});

test("a thread holds the partitions threadConfig gives it, and crashes with its process", async () => {
  const threads = 3;
  const r = await simulate({ ...base, hostThreads: threads });
  assert.equal(r.violations, []);
  let seen = 0;
  for (const line of r.trace) {
    const m = / (h(\d+)-t(\d+)) clean restart #\d+ instances=\d+ (.*)$/.exec(line);
    if (!m) continue;
    for (const inst of m[4]!.split(" ").filter((s) => s !== "")) {
      const key = inst.slice(inst.indexOf("/") + 1, inst.lastIndexOf("@"));
      const p = partitionOf(key, 12);
      assert.is(p % base.hosts, Number(m[2]) - 1, `${inst} on ${m[1]}`);
      assert.is(p % threads, Number(m[3]), `${inst} on ${m[1]}`);
      seen++;
    }
  }
  assert.ok(seen >= 16, `${seen} instances placed`);
  // A crash is the process's: every thread of the host crashes at the same virtual time.
  const crashes = r.trace.filter((l) => / h\d+-t\d+ crash #/.test(l));
  assert.ok(crashes.length > 0, "crashes");
  const byTime = new Map<string, Set<string>>();
  for (const l of crashes) {
    const [at, id] = l.split(" ");
    const host = id!.slice(0, id!.indexOf("-"));
    const key = `${at} ${host}`;
    byTime.set(key, (byTime.get(key) ?? new Set()).add(id!));
  }
  for (const [key, ids] of byTime) assert.is(ids.size, threads, `${key}: ${[...ids]}`);
});

test("simulate() refuses a thread count that is not a whole number from 1 to 64", async () => {
  for (const hostThreads of [0, 1.5, 65]) {
    try {
      await simulate({ ...base, hostThreads });
      assert.unreachable(`threads ${hostThreads}`);
    } catch (err) {
      assert.ok(err instanceof RangeError, String(err));
      assert.match(
        (err as Error).message,
        `Simulation option "hostThreads" must be an integer from 1 to 64, got ${hostThreads}`,
      );
    }
  }
});

test.run();
