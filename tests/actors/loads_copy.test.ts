/**
 * A kernel that says it copies what it loads (`loadsCopy`, protocol/kernel.ts) is handed its
 * bytes as the runtime has them (a view of a snapshot file's bytes, at any offset): so each
 * default kind's `load` must keep no view of them, nor of any copy it reads them through. Each is
 * loaded from a view at an odd offset and at an 8-byte one, whose buffer is then written over, and
 * another state is loaded after it: the state loaded saves as the one saved. A kernel that does
 * not say so is handed a fresh array at offset 0 of its own.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { statsActor } from "../../actors/stats/mod.ts";
import { ActorInstance } from "../../actors/runtime/instances/actor_instance.ts";
import type { AnyActorDefinition } from "../../actors/runtime/mod.ts";
import type { SampleFrame } from "../../protocol/mod.ts";

const test = suite("kernels' copying loads");

const T0 = Date.UTC(2024, 0, 1) * 1000;

/** Frames of one sample each, 15 s apart, of a wave with a step (every kind changes state). */
function frames(channel: string, n: number): SampleFrame[] {
  return Array.from({ length: n }, (_, i) => ({
    channel,
    seq0: i,
    t: new Float64Array([T0 + i * 15_000_000]),
    v: new Float64Array([100 + (i % 40) + (i >= 150 ? 60 : 0)]),
  }));
}

/** `bytes` as a view at offset `at` of a larger buffer. */
function viewAt(bytes: Uint8Array, at: number): Uint8Array {
  const big = new Uint8Array(bytes.length + at + 8);
  big.set(bytes, at);
  return big.subarray(at, at + bytes.length);
}

/** `bytes` as a view at offset 3 of a larger buffer. */
function oddView(bytes: Uint8Array): Uint8Array {
  return viewAt(bytes, 3);
}

const copying = Object.values(ACTOR_KINDS).filter((def) => def.kernel.loadsCopy === true);

test("the default kinds say they copy what they load", () => {
  assert.equal(
    copying.map((def) => def.kind).sort(),
    ["anomaly", "bars", "coherence", "collapse", "stats"],
  );
});

for (const def of copying) {
  test(`${def.kind}: a state loaded from a view keeps none of it`, () => {
    const kernel = def.kernel;
    const state = kernel.init(def.defaultConfig, "node/cpu");
    let last: unknown;
    for (const f of frames("node/cpu", 260)) last = kernel.step(state, f, last as never);
    const saved = kernel.save(state).slice();
    for (const at of [3, 8]) {
      const view = viewAt(saved, at);
      const loaded = kernel.load(view);
      new Uint8Array(view.buffer).fill(0xa5); // the file's bytes, let go and written over
      // Another state loaded after it (a load may read through a copy it lends the next one).
      const other = kernel.save(kernel.init(def.defaultConfig, "node/mem")).slice();
      assert.equal(kernel.save(kernel.load(viewAt(other, 3))), other);
      assert.equal(kernel.save(loaded), saved, `from a view at offset ${at}`);
    }
  });
}

/** The stats kind with a kernel that records the bytes its load is given. */
function recording(loadsCopy: boolean, given: Uint8Array[]): AnyActorDefinition {
  const inner = statsActor.kernel;
  const kernel = {
    ...inner,
    loadsCopy,
    load: (bytes: Uint8Array) => (given.push(bytes), inner.load(bytes)),
  };
  return { ...statsActor, kernel } as AnyActorDefinition;
}

test("restore hands a kernel that keeps its bytes a fresh array at offset 0, another the view", () => {
  const inst = ActorInstance.create(statsActor, "k", statsActor.defaultConfig);
  const snap = inst.snapshot();
  const view = oddView(snap.kernel);
  for (const loadsCopy of [false, true]) {
    const given: Uint8Array[] = [];
    ActorInstance.restore(recording(loadsCopy, given), "k", { ...snap, kernel: view });
    assert.is(given.length, 1);
    assert.equal(given[0], snap.kernel);
    if (loadsCopy) assert.is(given[0], view);
    else {
      assert.is(given[0]!.byteOffset, 0);
      assert.is(given[0]!.buffer.byteLength, view.length, "a buffer of its own");
    }
  }
});

test.run();
