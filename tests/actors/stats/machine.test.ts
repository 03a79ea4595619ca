/**
 * The stats machine and the host's shortcut past it: once `live`, a frame event only emits, so the
 * host takes those events from `statsFrameEmits` and sends the machine nothing. Both paths must
 * give the same events, the same outputs and the same snapshots.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createActor, type EventObject } from "xstate";
import {
  statsActor,
  statsFrameEmits,
  statsKernel,
  statsMachine,
} from "../../../actors/stats/mod.ts";
import { ActorInstance } from "../../../actors/runtime/mod.ts";
import { framedInputs } from "../../_support/framing.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("stats machine");

const T0 = 1_700_000_000_000_000;

/** `n` samples 1 ms apart around 1e6, seeded. */
function series(n: number, seed: number): { t: Float64Array; v: Float64Array } {
  const rng = new Prng(seed);
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * 1000;
    v[i] = 1e6 + rng.normal();
  }
  return { t, v };
}

test("statsFrameEmits() gives, once live, the events the machine emits for the frame, and none while waiting", () => {
  const config = { every_samples: 3 };
  const state = statsKernel.init(config, "c");
  const actor = createActor(statsMachine, { input: { key: "c", config } });
  const emitted: EventObject[] = [];
  actor.on("*", (e: EventObject) => emitted.push(e));
  actor.start();
  const { t, v } = series(200, 5);
  let live = 0;
  for (let at = 0, size = 1; at < t.length; at += size, size = (size % 7) + 1) {
    const frame = {
      channel: "c",
      seq0: at,
      t: t.subarray(at, at + size),
      v: v.subarray(at, at + size),
    };
    const pubs = statsKernel.step(state, frame);
    const machineState = actor.getSnapshot().value;
    const before = JSON.stringify(actor.getPersistedSnapshot());
    const shortcut = statsFrameEmits(pubs, { key: "c", machineState });
    emitted.length = 0;
    if (pubs.length > 0) actor.send({ type: "frame", publications: pubs });
    if (machineState !== "live") {
      assert.is(shortcut, undefined, `frame at ${at}, state ${String(machineState)}`);
      continue;
    }
    if (pubs.length === 0) continue;
    live++;
    assert.equal(shortcut, emitted, `frame at ${at}`);
    assert.is(JSON.stringify(actor.getPersistedSnapshot()), before, `frame at ${at}`);
  }
  actor.stop();
  assert.ok(live > 30, `frames with publications while live: ${live}`);
});

test("an instance emitting for its live machine gives the outputs and snapshots of one sending it every frame", () => {
  const { t, v } = series(3_000, 6);
  const config = { every_samples: 1 };
  const direct = ActorInstance.create(statsActor, "c", config);
  const { frameEmits: _, ...viaMachineKind } = statsActor;
  const viaMachine = ActorInstance.create(viaMachineKind, "c", config);
  let outputs = 0;
  for (const { record, pos } of framedInputs(t, v, 5)) {
    const a = direct.apply(record, pos), b = viaMachine.apply(record, pos);
    assert.equal(a, b, `input ${pos}`);
    outputs += a.length;
    if (pos % 97 === 0) {
      const sa = direct.snapshot(), sb = viaMachine.snapshot();
      assert.equal(sa.machine, sb.machine, `machine snapshot at ${pos}`);
      assert.equal(Array.from(sa.kernel), Array.from(sb.kernel), `kernel snapshot at ${pos}`);
    }
  }
  assert.is(outputs, 3_000);
  assert.is(direct.machineState, "live");
  direct.stop();
  viaMachine.stop();
});

test.run();
