/**
 * A warm-up input (its id marked by protocol's warmupId: a series' history) is learned from and
 * publishes nothing: an anomaly instance fed a past holding an outlier as warm-up ends in the very
 * state of one fed it live, publishing neither the outlier's finding nor any columns; the first
 * live outlier after it is published as ever.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { anomalyActor } from "../../../../actors/anomaly/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import {
  bytesEqual,
  encodeFrame,
  feedSubject,
  type InputRecord,
  warmupId,
} from "../../../../protocol/mod.ts";

const T0 = 1_700_000_000_000_000;
const STEP_US = 5_000_000;

/** A frame record of `v` from sample `seq0`, id `id`. */
function frameRecord(id: string, seq0: number, v: number[]): InputRecord {
  const t = Float64Array.from(v, (_, i) => T0 + (seq0 + i) * STEP_US);
  return {
    kind: "frame",
    srcPos: 0,
    subject: feedSubject("prom", "c"),
    payload: encodeFrame({ channel: "c", seq0, t, v: Float64Array.from(v) }, { id, src: "t" }),
  };
}

test("a warm-up input is learned from as a live one is, and publishes neither findings nor columns", () => {
  // 600 quiet samples with an outlier at 400, in frames of 100: the past; then a live outlier.
  const past = Array.from({ length: 600 }, (_, i) => (i === 400 ? 5 : 0.5 + 0.01 * (i % 7)));
  const warm = ActorInstance.create(anomalyActor, "c", anomalyActor.defaultConfig);
  const live = ActorInstance.create(anomalyActor, "c", anomalyActor.defaultConfig);
  const warmOut = [], liveOut = [];
  for (let f = 0; f < 6; f++) {
    const v = past.slice(f * 100, f * 100 + 100);
    warmOut.push(...warm.apply(frameRecord(warmupId(`h-${f}`), f * 100, v), f + 1));
    liveOut.push(...live.apply(frameRecord(`h-${f}`, f * 100, v), f + 1));
  }
  assert.equal(warmOut, []);
  // Fed live, the past's outlier is a finding, and every frame has its columns.
  assert.equal(liveOut.filter((o) => o.type === "anomaly").length, 1);
  assert.is(liveOut.filter((o) => o.type === undefined).length, 6);
  // The same state either way: the kernel and the machine learned the past alike.
  const a = warm.snapshot(), b = live.snapshot();
  assert.ok(bytesEqual(a.kernel, b.kernel), "kernel states differ");
  assert.equal(a.machine, b.machine);
  // The first live outlier is published by the warmed instance.
  const next = warm.apply(frameRecord("live-0", 600, [0.52, 9]), 7);
  assert.equal(next.map((o) => o.type), [undefined, "anomaly"]);
});

test.run();
