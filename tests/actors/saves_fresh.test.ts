/**
 * A kernel that says its saves are fresh (`savesFresh`, protocol/kernel.ts) has its saved bytes
 * kept by a snapshot as they are, uncopied: so each default kind's `save` must return bytes that
 * share nothing with the state, or with an earlier save. Each is saved, stepped on, saved again:
 * the first bytes are as they were, and the two saves share no bytes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import type { SampleFrame } from "../../protocol/mod.ts";

const test = suite("kernels' fresh saves");

const T0 = Date.UTC(2024, 0, 1) * 1000;

/** Frames of one sample each, 15 s apart, of a wave with a step (every kind changes state). */
function frames(channel: string, from: number, n: number): SampleFrame[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const v = 100 + (i % 40) + (i >= 150 ? 60 : 0);
    return {
      channel,
      seq0: i,
      t: new Float64Array([T0 + i * 15_000_000]),
      v: new Float64Array([v]),
    };
  });
}

const fresh = Object.values(ACTOR_KINDS).filter((def) => def.kernel.savesFresh === true);

test("the default kinds say their saves are fresh", () => {
  assert.equal(
    fresh.map((def) => def.kind).sort(),
    ["anomaly", "bars", "coherence", "collapse", "stats"],
  );
});

for (const def of fresh) {
  test(`${def.kind}: a save is untouched by the steps after it, and shares no bytes`, () => {
    const kernel = def.kernel;
    const state = kernel.init(def.defaultConfig, "node/cpu");
    let last: unknown;
    const step = (f: SampleFrame) => (last = kernel.step(state, f, last as never));
    for (const f of frames("node/cpu", 0, 100)) step(f);
    const first = kernel.save(state);
    const copy = first.slice();
    for (const f of frames("node/cpu", 100, 200)) step(f);
    const second = kernel.save(state);
    assert.ok(
      !(first.length === second.length && first.every((b, i) => b === second[i])),
      "the state moved on",
    );
    assert.equal(first, copy, "the first save's bytes are as they were");
    // Carved from one larger buffer, perhaps, but never from the same bytes.
    const apart = first.buffer !== second.buffer ||
      first.byteOffset + first.byteLength <= second.byteOffset ||
      second.byteOffset + second.byteLength <= first.byteOffset;
    assert.ok(apart, "the two saves share no bytes");
  });
}

test.run();
