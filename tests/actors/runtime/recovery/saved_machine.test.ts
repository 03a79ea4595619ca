/**
 * What a host's snapshot keeps of an instance as its machine (recovery/restorable_snapshot.ts):
 * the configuration its machine's context holds is saved once, the context's copy saved as null
 * and marked; a restore puts it back, so the instance restored is the instance saved, for every
 * default kind, from the new form and from the form saved before it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import {
  restorableOf,
  savedMachineOf,
} from "../../../../actors/runtime/recovery/restorable_snapshot.ts";
import { decodeSnapshot, encodeSnapshot } from "../../../../actors/runtime/snapshots/mod.ts";
import { encodeFrame, feedSubject, type InputRecord } from "../../../../protocol/mod.ts";

const test = suite("saved_machine");

const T0 = Date.UTC(2024, 0, 1) * 1000;

function frame(channel: string, i: number): InputRecord {
  const t = new Float64Array([T0 + i * 15_000_000]);
  const v = new Float64Array([100 + (i % 40) + (i >= 150 ? 60 : 0)]);
  return {
    kind: "frame",
    srcPos: i + 1,
    subject: feedSubject("t", channel),
    payload: encodeFrame({ channel, seq0: i, t, v }, { id: `f-${i}`, src: "t" }),
  };
}

/** An instance of `kind` fed 200 samples. */
function fed(kind: string): ActorInstance {
  const def = ACTOR_KINDS[kind]!;
  const inst = ActorInstance.create(def, "node-1", def.defaultConfig);
  for (let i = 0; i < 200; i++) inst.apply(frame("node-1", i), i + 1);
  return inst;
}

/** The snapshot a host stores of `inst`, through its bytes, with `machine` as it saves it. */
function stored(inst: ActorInstance, machine: unknown) {
  const s = inst.snapshot();
  const bytes = encodeSnapshot({
    stream: inst.stream,
    version: inst.def.version,
    pos: s.pos,
    machine,
    kernel: s.kernel,
    meta: { srcPos: s.srcPos },
  });
  return { bytes, back: decodeSnapshot(bytes) };
}

for (const kind of ["stats", "anomaly", "collapse", "bars"]) {
  test(`${kind}: the configuration is saved once, and the instance restored is the one saved`, () => {
    const inst = fed(kind);
    const s = inst.snapshot();
    const saved = savedMachineOf(s);
    assert.is(saved.cc, 1);
    const context = (saved.xstate as { context: Record<string, unknown> }).context;
    assert.is(context.config, null, "the context's copy saved as null");
    // In its place among the context's fields, so the context put back has them in order.
    const live = (s.machine as { context: Record<string, unknown> }).context;
    assert.equal(Object.keys(context), Object.keys(live));
    assert.equal(live.config, s.config, "the machine's own context keeps its configuration");

    const now = stored(inst, saved);
    const before = stored(inst, { xstate: s.machine, config: s.config, ids: s.ids });
    assert.ok(
      now.bytes.byteLength < before.bytes.byteLength,
      `${now.bytes.byteLength} bytes, not fewer than ${before.bytes.byteLength}`,
    );
    for (const { back } of [now, before]) {
      const restorable = restorableOf(back);
      assert.equal(restorable.machine, s.machine);
      const restored = ActorInstance.restore(inst.def, inst.key, restorable);
      const again = restored.snapshot();
      assert.equal(again.machine, s.machine);
      assert.equal(again.config, s.config);
      assert.equal([...again.kernel], [...s.kernel]);
      assert.equal([...again.ids!], [...s.ids!]);
      // It goes on as the instance saved does (a twin of it, fed the same).
      const twin = fed(kind);
      for (let i = 200; i < 230; i++) {
        assert.equal(
          restored.apply(frame("node-1", i), i + 1),
          twin.apply(frame("node-1", i), i + 1),
        );
      }
      twin.stop();
      restored.stop();
    }
    inst.stop();
  });
}

test("a machine whose context holds no configuration, or another, is saved as it is", () => {
  const inst = fed("stats");
  const s = inst.snapshot();
  const m = s.machine as { context: Record<string, unknown> };
  const other = {
    ...s,
    machine: { ...m, context: { ...m.context, config: { every_samples: 7 } } },
  };
  const none = { ...s, machine: { ...m, context: { key: "node-1" } } };
  for (const x of [other, none, { ...s, machine: "a value" }]) {
    const saved = savedMachineOf(x);
    assert.is(saved.cc, undefined);
    assert.is(saved.xstate, x.machine);
    assert.equal(
      restorableOf({ stream: "stats/node-1", version: 1, pos: 1, machine: saved, kernel: s.kernel })
        .machine,
      x.machine,
    );
  }
});

test.run();
