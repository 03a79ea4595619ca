/**
 * A replay's incident stage takes the recorded findings in the order of their recorded copies,
 * whatever order the replay makes them in and whichever comes first, the copy or the replayed
 * finding; a finding the replay does not make by the next progress mark is not waited for; one
 * the recording does not hold goes at once.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { StageFindingOrder } from "../../sim/recording/_stage_finding_order.ts";

const test = suite("stage finding order");

const bytes = (id: string) => new TextEncoder().encode(id);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

function order(recorded: string[]): { order: StageFindingOrder; taken: string[] } {
  const taken: string[] = [];
  return { order: new StageFindingOrder(new Set(recorded), (d) => taken.push(text(d))), taken };
}

test("findings made in another order than recorded go in the recorded order", () => {
  const { order: o, taken } = order(["a", "b", "c"]);
  o.replayed("c", bytes("c"));
  o.replayed("b", bytes("b"));
  o.replayed("a", bytes("a"));
  assert.equal(taken, []);
  o.recorded("a");
  assert.equal(taken, ["a"]);
  o.recorded("b");
  o.recorded("c");
  assert.equal(taken, ["a", "b", "c"]);
});

test("a copy read before its finding is made holds the findings recorded after it", () => {
  const { order: o, taken } = order(["a", "b"]);
  o.recorded("a");
  o.recorded("b");
  o.replayed("b", bytes("b"));
  assert.equal(taken, [], "b waits for a, recorded before it");
  o.replayed("a", bytes("a"));
  assert.equal(taken, ["a", "b"]);
});

test("at a mark, a finding not made is given up; it goes whenever it comes", () => {
  const { order: o, taken } = order(["a", "b", "c"]);
  o.recorded("a");
  o.recorded("b");
  o.replayed("b", bytes("b"));
  o.settle();
  assert.equal(taken, ["b"]);
  o.recorded("c");
  o.replayed("c", bytes("c"));
  assert.equal(taken, ["b", "c"], "later findings are not held behind the one given up");
  o.replayed("a", bytes("a"));
  assert.equal(taken, ["b", "c", "a"]);
});

test("a finding the recording does not hold goes at once; the end releases what waits", () => {
  const { order: o, taken } = order(["a", "b"]);
  o.replayed("x", bytes("x"));
  o.replayed(undefined, bytes("y"));
  o.replayed("b", bytes("b"));
  assert.equal(taken, ["x", "y"]);
  o.recorded("b"); // b's copy read before a's: b goes, a has no copy read yet
  assert.equal(taken, ["x", "y", "b"]);
  o.replayed("a", bytes("a"));
  o.release();
  assert.equal(taken, ["x", "y", "b", "a"]);
});

test("a repeated recorded copy is counted once", () => {
  const { order: o, taken } = order(["a", "b"]);
  o.recorded("a");
  o.recorded("a");
  o.recorded("b");
  o.replayed("b", bytes("b"));
  o.replayed("a", bytes("a"));
  assert.equal(taken, ["a", "b"]);
});

test("many findings in order keep their order and are all taken", () => {
  const ids = Array.from({ length: 5000 }, (_, i) => `f${i}`);
  const { order: o, taken } = order(ids);
  // Made in reverse blocks of 7, copies read in order.
  for (let i = 0; i < ids.length; i += 7) {
    for (const id of ids.slice(i, i + 7).reverse()) o.replayed(id, bytes(id));
    for (const id of ids.slice(i, i + 7)) o.recorded(id);
  }
  o.release();
  assert.equal(taken, ids);
});

test.run();
