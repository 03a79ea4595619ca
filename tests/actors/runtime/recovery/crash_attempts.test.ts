import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { AttemptRecord } from "../../../../protocol/mod.ts";
import { CrashAttempts } from "../../../../actors/runtime/recovery/mod.ts";

const test = suite("crash_attempts");

/** An attempt journal holding `attempts`, taking new ones into `written`. */
function journal(attempts: AttemptRecord[]) {
  const written: AttemptRecord[] = [];
  return {
    attempts,
    written,
    attempt: (a: AttemptRecord) => {
      written.push(a);
      return Promise.resolve();
    },
    skippedIn: () => undefined,
  };
}

const begin: AttemptRecord = { phase: "begin", stream: "", pos: 0, srcPos: 0 };
const passed: AttemptRecord = { phase: "passed", stream: "", pos: 0, srcPos: 0 };
const input = (stream: string, pos: number): AttemptRecord => ({
  phase: "input",
  stream,
  pos,
  srcPos: pos + 100,
});

test("deaths() counts the live apply alone when no recovery died", () => {
  const j = journal([begin, input("k/a", 3), input("k/b", 5), passed]);
  const c = new CrashAttempts(j);
  assert.is(c.deaths("k/a", 3), 1);
  assert.is(c.deaths("k/b", 5), 1);
});

test("deaths() counts each recovery in a row that died on the same input", () => {
  const j = journal([
    begin,
    input("k/a", 3),
    input("k/b", 5),
    passed, // an earlier start: recovered, then died live
    begin,
    input("k/a", 3),
    input("k/b", 5), // died here
    begin,
    input("k/b", 5), // and here again
  ]);
  const c = new CrashAttempts(j);
  assert.is(c.deaths("k/b", 5), 3);
  assert.is(c.deaths("k/a", 3), 1, "an input applied before the one it died on is innocent");
  assert.is(c.deaths("k/b", 6), 1, "another position of the stream");
});

test("deaths() starts again after a recovery that died on another input or skipped one", () => {
  const other = new CrashAttempts(
    journal([begin, input("k/b", 5), begin, input("k/c", 2), begin, input("k/b", 5)]),
  );
  assert.is(other.deaths("k/b", 5), 2);
  const skipped = new CrashAttempts(
    journal([begin, input("k/b", 5), { ...input("k/b", 5), phase: "skipped" }]),
  );
  assert.is(skipped.deaths("k/b", 5), 1);
});

test("attempting() begins once, and passed() closes only what was begun", async () => {
  const j = journal([]);
  const c = new CrashAttempts(j);
  await c.passed();
  assert.equal(j.written, []);
  await c.attempting("k/a", 3, 103);
  await c.attempting("k/b", 5, 105);
  await c.passed();
  assert.equal(j.written.map((a) => a.phase), ["begin", "input", "input", "passed"]);
  assert.equal(j.written[2], input("k/b", 5));
});

test("settle() closes the input attempted last, once, and the recovery goes on without a begin", async () => {
  const j = journal([]);
  const c = new CrashAttempts(j);
  await c.settle();
  assert.equal(j.written, [], "nothing attempted, nothing to close");
  await c.attempting("k/a", 3, 103);
  await c.settle();
  await c.settle();
  await c.attempting("k/b", 5, 105);
  await c.passed();
  assert.equal(j.written.map((a) => a.phase), ["begin", "input", "passed", "input", "passed"]);
  // A recovery that died folding a record after a settled attempt: not counted against it.
  assert.is(new CrashAttempts(journal(j.written.slice(0, 3))).deaths("k/a", 3), 1);
  // One that died on the input attempted after it: counted, in the same recovery.
  assert.is(new CrashAttempts(journal(j.written.slice(0, 4))).deaths("k/b", 5), 2);
});

test.run();
