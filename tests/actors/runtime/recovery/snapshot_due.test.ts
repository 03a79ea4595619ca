/**
 * The index a periodic round of snapshots looks at (recovery/_snapshot_due.ts, through
 * snapshotter.ts): only the instances with news since their last snapshot, each set aside until
 * it may be due. Each test fails if an instance is left out of the index or kept in it wrongly:
 * one fed once then idle is still taken at its age; one that reaches `min_inputs` is taken back
 * early; a stopped or forgotten slot leaves the index; and the rounds take what a look at every
 * slot would have taken, round by round, on a seeded mix of inputs.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { MemoryJournal, MemorySnapshotStore } from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/slot.ts";
import { Snapshotter } from "../../../../actors/runtime/recovery/snapshotter.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("snapshot_due");

/** A running stats slot with no news yet. */
function slotOf(key: string): Slot {
  const s = newSlot(statsActor, key, new HostMetrics({ host: "h" }).tally("stats"));
  s.inst = ActorInstance.create(statsActor, key, statsActor.defaultConfig);
  return s;
}

function snapshotterWith(minInputs: number, maxAgeMs: number): Snapshotter {
  return new Snapshotter({
    journal: new MemoryJournal(),
    store: new MemorySnapshotStore(),
    metrics: new HostMetrics({ host: "h" }),
    log: () => {},
    now: () => 0,
    closing: () => false,
    minInputs,
    maxAgeMs,
  });
}

/** `n` inputs applied to the slot's instance, told as the host tells them. */
function feed(snaps: Snapshotter, slot: Slot, n = 1): void {
  for (let i = 0; i < n; i++) {
    slot.inst!.sinceSnapshot++;
    snaps.noteNews(slot);
  }
}

test("an instance fed once, then idle, is snapshotted once its last snapshot is max_age_ms old", async () => {
  const snaps = snapshotterWith(5, 60_000);
  const slot = slotOf("once");
  feed(snaps, slot);
  // Its age starts at the first round that looks at it (10 s), and is 60 s at 70 s.
  for (let now = 10_000; now < 70_000; now += 1_000) {
    snaps.captureDue(now, 5_000);
    assert.is(slot.inst!.sinceSnapshot, 1, `not taken at ${now}`);
  }
  snaps.captureDue(70_000, 5_000);
  assert.is(slot.inst!.sinceSnapshot, 0, "taken at its age");
  assert.is(slot.lastSnapMs, 70_000);
  await snaps.flush();
});

test("an instance set aside for its age is taken back as soon as it reaches min_inputs", async () => {
  const snaps = snapshotterWith(5, 60_000);
  const slot = slotOf("busy");
  feed(snaps, slot);
  snaps.captureDue(10_000, 5_000); // its age starts: set aside till 70 s
  feed(snaps, slot, 3);
  snaps.captureDue(16_000, 5_000);
  assert.is(slot.inst!.sinceSnapshot, 4, "four inputs: not worth one yet");
  feed(snaps, slot);
  snaps.captureDue(17_000, 5_000);
  assert.is(slot.inst!.sinceSnapshot, 0, "five: taken at the next round");
  await snaps.flush();
});

test("a stopped instance, or a slot whose instance is gone, leaves the index", async () => {
  const snaps = snapshotterWith(1, 0);
  const stopped = slotOf("stopped"), gone = slotOf("gone");
  feed(snaps, stopped);
  feed(snaps, gone);
  stopped.status = "stopped";
  gone.inst = undefined;
  assert.is(snaps.captureDue(1_000, 0), false);
  assert.is(stopped.snapIndex, "none");
  assert.is(gone.snapIndex, "none");
  assert.is(stopped.inst!.sinceSnapshot, 1, "a stopped instance is not taken");
  await snaps.flush();
});

test("an instance in backoff stays in the index and is taken once it runs again", async () => {
  const snaps = snapshotterWith(1, 0);
  const slot = slotOf("backoff");
  feed(snaps, slot);
  slot.status = "backoff";
  snaps.captureDue(1_000, 0);
  assert.is(slot.snapIndex, "ready");
  slot.status = "running";
  snaps.captureDue(2_000, 0);
  assert.is(slot.inst!.sinceSnapshot, 0);
  assert.is(slot.snapIndex, "none", "no news: out of the index");
  await snaps.flush();
});

/**
 * The rule of a round that looks at every slot, as it was before the index: the slots a round
 * at `now` takes, given each twin's news and last snapshot (`last`, which a first look sets).
 */
function lookAtEvery(
  twins: Array<{ news: number; last: number }>,
  now: number,
  o: { every: number; min: number; age: number },
): number[] {
  const taken: number[] = [];
  twins.forEach((t, i) => {
    if (t.news === 0 || now - t.last < o.every) return;
    if (t.news < o.min) {
      if (t.last === 0) return void (t.last = now);
      if (now - t.last < o.age) return;
    }
    taken.push(i);
    t.news = 0;
    t.last = now;
  });
  return taken;
}

test("the rounds take what a look at every slot would, round by round (seeded inputs)", async () => {
  for (const seed of [79, 80, 81]) {
    const rand = new Prng(seed);
    const o = { every: 5_000, min: 4, age: 20_000 };
    const snaps = snapshotterWith(o.min, o.age);
    const all = Array.from({ length: 60 }, (_, i) => slotOf(`c${i}`));
    const twins = all.map(() => ({ news: 0, last: 0 }));
    for (let round = 1; round <= 200; round++) {
      const now = round * 1_000;
      all.forEach((s, i) => {
        if (!rand.chance(0.15)) return;
        feed(snaps, s);
        twins[i]!.news++;
      });
      const expected = lookAtEvery(twins, now, o);
      const before = all.map((s) => s.inst!.sinceSnapshot);
      assert.is(snaps.captureDue(now, o.every, all.length), false);
      const got = all.flatMap((s, i) => before[i]! > 0 && s.inst!.sinceSnapshot === 0 ? [i] : []);
      assert.equal(got, expected, `round ${round}, seed ${seed}`);
      assert.equal(all.map((s) => s.lastSnapMs), twins.map((t) => t.last), `seed ${seed}`);
    }
    await snaps.flush();
  }
});

test.run();
