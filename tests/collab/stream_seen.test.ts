import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SeenSeqs } from "../../collab/mod.ts";

const test = suite("stream seen seqs");

test("SeenSeqs tells a seq seen again, in any order, within its window", () => {
  const seen = new SeenSeqs(64);
  assert.ok(seen.add(5));
  assert.ok(seen.add(3));
  assert.not.ok(seen.add(5));
  assert.not.ok(seen.add(3));
  assert.ok(seen.has(3) && !seen.has(4) && !seen.has(6));
  assert.ok(seen.add(100)); // the window slides: 37..100
  assert.is(seen.high, 100);
  assert.not.ok(seen.has(5), "slid out of the window");
  assert.ok(seen.add(40) && !seen.add(40));
  const fresh = new SeenSeqs(64);
  fresh.add(10);
  fresh.add(20);
  fresh.add(80); // 74 shares 10's slot: the slide cleared it
  assert.ok(!fresh.has(74) && fresh.add(74) && !fresh.has(75));
  seen.clear();
  assert.ok(!seen.has(40) && seen.high === 0 && seen.add(1));
});

test("SeenSeqs refuses a window that is not a positive multiple of 8, naming it", () => {
  assert.throws(() => new SeenSeqs(12), /multiple of 8, got 12/);
  assert.throws(() => new SeenSeqs(0), /got 0/);
});

test.run();
