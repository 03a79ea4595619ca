import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SystemClock, VirtualClock } from "../../sim/clock.ts";

const test = suite("clock");

test("VirtualClock moves only by advance() and set()", () => {
  const clock = new VirtualClock(1_000);
  assert.is(clock.now(), 1_000);
  clock.advance(250);
  assert.is(clock.now(), 1_250);
  clock.set(5_000);
  assert.is(clock.now(), 5_000);
  clock.advance(0);
  assert.is(clock.now(), 5_000);
});

test("VirtualClock refuses to go backwards, naming both times", () => {
  const clock = new VirtualClock(5_000);
  assert.throws(() => clock.set(4_999), /5000 µs to 4999 µs/);
  assert.throws(() => clock.advance(-1), /by -1 µs/);
  assert.throws(() => clock.advance(NaN), /by NaN µs/);
  assert.throws(() => new VirtualClock(Infinity), /startUs/);
  assert.is(clock.now(), 5_000);
});

test("VirtualClock wakes sleepers in deadline order when time reaches them", async () => {
  const clock = new VirtualClock(0);
  const woke: string[] = [];
  const a = clock.sleep(300).then(() => woke.push(`a@${clock.now()}`));
  const b = clock.sleep(100).then(() => woke.push(`b@${clock.now()}`));
  const c = clock.sleep(100).then(() => woke.push(`c@${clock.now()}`));
  assert.is(clock.pending(), 3);
  assert.is(clock.nextDeadline(), 100);
  clock.advance(99);
  await Promise.resolve();
  assert.equal(woke, []);
  clock.advance(1);
  await Promise.all([b, c]);
  assert.equal(woke, ["b@100", "c@100"]);
  assert.is(clock.nextDeadline(), 300);
  clock.set(1_000);
  await a;
  assert.equal(woke, ["b@100", "c@100", "a@1000"]);
  assert.is(clock.pending(), 0);
});

test("VirtualClock with autoAdvance moves itself to each sleeper's deadline", async () => {
  const clock = new VirtualClock(10, { autoAdvance: true });
  await clock.sleep(90);
  assert.is(clock.now(), 100);
  await clock.sleep(-5);
  assert.is(clock.now(), 100);
  assert.is(clock.pending(), 0);
});

test("SystemClock reads integer microseconds near Date.now() and never goes backwards", async () => {
  const clock = new SystemClock();
  const a = clock.now();
  assert.ok(Number.isInteger(a));
  // Near, not equal: the clock is anchored when the process starts and an NTP step since then
  // moves Date.now() alone (seconds); a unit mistake would be off by a factor of a thousand.
  assert.ok(Math.abs(a / 1000 - Date.now()) < 60_000, `${a} vs ${Date.now()}`);
  let prev = a;
  for (let i = 0; i < 1000; i++) {
    const t = clock.now();
    assert.ok(t >= prev);
    prev = t;
  }
  const before = clock.now();
  await clock.sleep(5_000);
  assert.ok(clock.now() - before >= 4_000, `slept ${clock.now() - before} µs`);
});

test.run();
