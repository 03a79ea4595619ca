/**
 * Every kind names its kernel state's fields (`troupe replay --inspect` shows them), so a person
 * never has to read a bare typed array.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import type { SampleFrame } from "../../protocol/mod.ts";

const test = suite("describeState");

function frame(n: number): SampleFrame {
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = 1_700_000_000_000_000 + i * 1_000_000; // one a second, in µs
    v[i] = 100 + 10 * Math.sin(i / 20) + (i % 7);
  }
  return { channel: "cpu", seq0: 0, t, v };
}

function hasTypedArray(value: unknown): boolean {
  if (ArrayBuffer.isView(value)) return true;
  if (Array.isArray(value)) return value.some(hasTypedArray);
  if (value && typeof value === "object") return Object.values(value).some(hasTypedArray);
  return false;
}

for (const [kind, def] of Object.entries(ACTOR_KINDS)) {
  test(`${kind}: describeState() names the fields of a stepped state, with no bare arrays`, () => {
    assert.type(def.describeState, "function", `${kind} has no describeState`);
    const state = def.kernel.init(def.defaultConfig, "cpu");
    def.kernel.step(state, frame(400));
    const described = def.describeState!(state);
    assert.ok(Object.keys(described).length >= 3, JSON.stringify(described));
    assert.not.ok(hasTypedArray(described), `${kind} shows a typed array`);
  });
}

test("anomaly: the described count of samples seen is the samples stepped", () => {
  const def = ACTOR_KINDS.anomaly!;
  const state = def.kernel.init(def.defaultConfig, "cpu");
  def.kernel.step(state, frame(400));
  assert.is(def.describeState!(state).seen, 400);
});

test("collapse: the described phase is one of the machine's states", () => {
  const def = ACTOR_KINDS.collapse!;
  const state = def.kernel.init(def.defaultConfig, "cpu");
  def.kernel.step(state, frame(400));
  const d = def.describeState!(state);
  assert.ok(
    ["stable", "suspect", "collapsed", "recovering"].includes(String(d.phase)),
    String(d.phase),
  );
  assert.ok(Array.isArray(d.hypotheses) && d.hypotheses.length > 0);
});

test.run();
