/**
 * Issue 12's property for the stats actor: the same samples, framed 1, 7, 100, 500 or 4,096 at a
 * time, give the same `stats` events through the host's ActorInstance (envelope ids apart): each
 * publication falls on the sample that completes `every_samples`, with the same figures to the bit.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor, type StatsConfig } from "../../../actors/stats/mod.ts";
import { ActorInstance } from "../../../actors/runtime/mod.ts";
import { decodeEnvelope } from "../../../protocol/mod.ts";
import { framedInputs } from "../../_support/framing.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("stats framing");

const T0 = 1_700_000_000_000_000;
const SIZES = [1, 7, 100, 500, 4096];

/** A seeded random walk with jumps, at a level where rounding shows, irregularly spaced. */
function series(n: number, seed: number): { t: Float64Array; v: Float64Array } {
  const rng = new Prng(seed);
  const t = new Float64Array(n), v = new Float64Array(n);
  let x = 1e6, time = T0;
  for (let i = 0; i < n; i++) {
    time += 1000 + Math.floor(rng.next() * 5000);
    x += rng.normal() + (i % 3001 === 3000 ? 500 : 0);
    t[i] = time;
    v[i] = x;
  }
  return { t, v };
}

/** Feeds `t`, `v` in frames of `size` through an ActorInstance; its events as text. */
function runFramed(t: Float64Array, v: Float64Array, size: number, config: StatsConfig): string[] {
  const actor = ActorInstance.create(statsActor, "c", config);
  const events: string[] = [];
  for (const { record, pos } of framedInputs(t, v, size)) {
    for (const o of actor.apply(record, pos)) {
      const env = decodeEnvelope(o.data);
      events.push(`${env.type} ${env.ts} ${JSON.stringify(env.body)}`);
    }
  }
  actor.stop();
  return events;
}

test("frames of 1, 7, 100, 500 and 4,096 give the same stats events", () => {
  const { t, v } = series(20_000, 7);
  for (const every of [997, 1000, 4096]) {
    const reference = runFramed(t, v, 4096, { every_samples: every });
    assert.is(reference.length, Math.floor(v.length / every), `every ${every}`);
    const first = JSON.parse(reference[0]!.slice(reference[0]!.indexOf("{")));
    assert.is(first.count, every);
    assert.ok(reference[0]!.startsWith(`stats ${t[every - 1]} `), reference[0]);
    for (const size of SIZES.slice(0, -1)) {
      assert.equal(runFramed(t, v, size, { every_samples: every }), reference, `frames of ${size}`);
    }
  }
});

test("a snapshot taken between any two frames resumes to the same events", () => {
  const { t, v } = series(5_000, 8);
  const config = { every_samples: 333 };
  const whole = runFramed(t, v, 7, config);
  const a = ActorInstance.create(statsActor, "c", config);
  const events: string[] = [];
  let actor = a;
  for (const { record, pos } of framedInputs(t, v, 7)) {
    for (const o of actor.apply(record, pos)) {
      const env = decodeEnvelope(o.data);
      events.push(`${env.type} ${env.ts} ${JSON.stringify(env.body)}`);
    }
    if (pos % 50 === 0) {
      const snap = actor.snapshot();
      actor.stop();
      actor = ActorInstance.restore(statsActor, "c", snap);
    }
  }
  actor.stop();
  assert.equal(events, whole);
});

test.run();
