/**
 * The spread example's tests, with troupe's test kit: one instance per pair gets both legs, it
 * finds a break in the spread, and the findings do not depend on framing or interleaving.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { sampleRandom } from "troupe";
import {
  checkFraming,
  checkPure,
  checkSaveLoad,
  framesOf,
  runKind,
  type Series,
} from "troupe/testing";
import { spread } from "./spread.ts";

const test = suite("example spread");

const T0 = 1_700_000_000_000_000;
const BREAK_AT = 600;

/** Two legs sharing a random walk; from BREAK_AT leg B jumps 5% on its own. */
function legs(n = 1000): Series[] {
  const t = new Float64Array(n), a = new Float64Array(n), b = new Float64Array(n);
  let level = Math.log(100);
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * 60_000_000;
    level += 0.01 * (sampleRandom(1, i) - 0.5);
    a[i] = Math.exp(level + 0.002 * (sampleRandom(2, i) - 0.5));
    b[i] = Math.exp(level + 0.002 * (sampleRandom(3, i) - 0.5) + (i >= BREAK_AT ? 0.05 : 0));
  }
  return [{ channel: "SYM001", t, v: a }, { channel: "SYM002", t, v: b }];
}

test("both legs go to the pair's one instance, and it finds the break once", () => {
  const steps = runKind(spread, framesOf(legs(), 50));
  const events = steps.flatMap((s) => s.outputs).filter((o) => o.type === "spread_break");
  assert.is(events.length, 1);
  assert.is(events[0]!.stream, "spread/SYM001-SYM002");
  assert.equal(spread.route("SYM003", spread.defaultConfig), []);
});

test("it passes the kit: save and load, framing and interleaving, purity", () => {
  assert.ok(checkSaveLoad(spread, framesOf(legs(), 23)).outputs > 0);
  assert.is(checkFraming(spread, legs(), { sizes: [1, 7, 300, 4096] }).findings, 1);
  checkPure(spread, framesOf(legs(), 64));
});

test.run();
