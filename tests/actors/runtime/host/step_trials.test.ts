/**
 * StepTrials on real worker threads, loading a team's kinds module as a host does: steps that
 * return are answered, in order and many at once; a step that never returns is named as stuck,
 * holds the other instances' steps up for about a second only (its thread set aside), and is
 * ended at its deadline; the instance's next step runs on a fresh thread, its copy made again
 * from the host's instance.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { StepTrials, STUCK_AFTER_MS } from "../../../../actors/runtime/host/step_trials.ts";
import { ActorInstance, newSlot, type Slot } from "../../../../actors/runtime/instances/mod.ts";
import { KindTally } from "../../../../actors/runtime/operations/mod.ts";
import { encodeFrame, feedSubject, type InputRecord } from "../../../../protocol/mod.ts";
import { registry } from "../../../_support/deadly_registry.ts";

const test = suite("step trials");
const DEADLINE_MS = 4000;

/** A slot of kind "deadly" on `key`, its instance created at position 1 (its init). */
function slotOf(key: string): Slot {
  const def = registry.deadly!;
  const slot = newSlot(def, key, new KindTally());
  slot.inst = ActorInstance.create(def, key, def.parseConfig({}, undefined, "t"));
  slot.inst.skip(1, 0);
  return slot;
}

let seq = 0;

/** A frame record of value `v` on `key`. */
function record(key: string, v: number): InputRecord {
  const s = ++seq;
  const payload = encodeFrame(
    { channel: key, seq0: s, t: Float64Array.of(1.7e15 + s * 1000), v: Float64Array.of(v) },
    { id: `f${s}`, src: "test" },
  );
  return { kind: "frame", srcPos: s, subject: feedSubject("st", key), payload };
}

test("answers steps, sets a stuck one aside for the others, and ends it at its deadline", async () => {
  const lines: string[] = [];
  const trials = await StepTrials.start({
    kindsModule: new URL("../../../_support/deadly_registry.ts", import.meta.url),
    kinds: ["deadly"],
    deadlineMs: () => DEADLINE_MS,
    log: (line) => lines.push(line),
  });
  try {
    assert.ok(trials.isolates("deadly"));
    assert.not.ok(trials.isolates("stats"));
    // Many steps at once, of many instances: each answered, none stuck.
    const slots = Array.from({ length: 20 }, (_, i) => slotOf(`k${i}`));
    const firsts = slots.map((s) => record(s.key, 1));
    const outcomes = await Promise.all(slots.map((s, i) => trials.trial(s, firsts[i]!, 2)));
    assert.equal(outcomes, slots.map(() => ({ ok: true })));
    assert.equal(trials.stuck(), []);
    slots.forEach((s, i) => s.inst!.apply(firsts[i]!, 2)); // as the host does once they pass

    // One that never returns: the others' steps go on past it.
    const [a, b] = [slots[0]!, slots[1]!];
    const endless = record("k0", 777);
    const stuck = trials.trial(a, endless, 3);
    let aDecided = false;
    void stuck.then(() => (aDecided = true));
    const other = await trials.trial(b, record("k1", 2), 3);
    assert.equal(other, { ok: true });
    assert.not.ok(aDecided, "b waited for a's deadline");
    const named = trials.stuck();
    assert.is(named.length, 1);
    const { elapsed_ms, ...step } = named[0]!;
    assert.equal(step, {
      kind: "deadly",
      key: "k0",
      pos: 3,
      src_pos: endless.srcPos,
      deadline_ms: DEADLINE_MS,
    });
    assert.ok(elapsed_ms >= STUCK_AFTER_MS && elapsed_ms < DEADLINE_MS, `${elapsed_ms}`);
    assert.match(lines.join("\n"), /deadly\/k0: a step has run for 1000 ms on its input at pos/);

    const ended = await stuck;
    assert.ok("overrun" in ended, JSON.stringify(ended));
    assert.is(ended.overrun.deadlineMs, DEADLINE_MS);
    assert.ok(ended.overrun.elapsedMs >= DEADLINE_MS, `${ended.overrun.elapsedMs}`);
    assert.equal(trials.stuck(), []);

    // The host skipped that input: a's next step runs, its copy made again on a fresh thread.
    a.inst!.skip(3, 0);
    a.inst!.skip(4, 0);
    const next = record("k0", 5);
    assert.equal(await trials.trial(a, next, 5), { ok: true });
    a.inst!.apply(next, 5);
    // A step that throws is said to have failed.
    const thrown = await trials.trial(a, { ...record("k0", 6), payload: Uint8Array.of(1) }, 6);
    assert.ok("error" in thrown && /k0|decode|frame/i.test(thrown.error), JSON.stringify(thrown));
  } finally {
    await trials.stop();
  }
});

test("start() rejects naming the trials thread and why it cannot load the kinds", async () => {
  const lines: string[] = [];
  const err = await StepTrials.start({
    kindsModule: new URL("./_kinds_that_throw.ts", import.meta.url),
    kinds: ["deadly"],
    deadlineMs: () => DEADLINE_MS,
    log: (line) => lines.push(line),
  }).then((t) => t.stop().then(() => undefined), (e: Error) => e);
  assert.instance(err, Error, "it started");
  assert.match(
    err!.message,
    /^Cannot start the step trials thread: .*this kinds module fails to load/,
  );
  assert.equal(lines, []);
});

test.run();
