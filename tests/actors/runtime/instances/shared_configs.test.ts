import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyActor, barsActor, collapseActor, statsActor } from "../../../../actors/mod.ts";
import { kindConfigs } from "../../../../actors/runtime/host/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/mod.ts";
import { sharedConfig } from "../../../../actors/runtime/instances/shared_configs.ts";
import { decodeValue, encodeValue } from "../../../../protocol/mod.ts";

const test = suite("shared_configs");

const KINDS = [statsActor, anomalyActor, collapseActor, barsActor];

/** An instance's snapshot as a store gives it back: every object a copy decoded for it. */
function saved(inst: ActorInstance) {
  const s = inst.snapshot(true);
  return { ...s, config: decodeValue(encodeValue(s.config)) };
}

/** The bytes of a snapshot of `inst`, as a store would write them. */
function bytesOf(inst: ActorInstance): Uint8Array {
  const s = inst.snapshot(true);
  return encodeValue({ machine: s.machine, config: s.config, kernel: s.kernel, ids: s.ids });
}

test("an instance restored with its host's configuration holds the host's object, in its machine too", () => {
  const configs = kindConfigs(KINDS);
  for (const def of KINDS) {
    const config = configs.get(def.kind);
    assert.ok(Object.isFrozen(config), `${def.kind}: the host's configuration is frozen`);
    const inst = ActorInstance.create(def, "ch-1", config);
    const snap = saved(inst);
    assert.is.not(snap.config, config, `${def.kind}: the snapshot's is a copy`);
    const back = ActorInstance.restore(def, "ch-1", snap);
    assert.is(back.config, config, `${def.kind}: the instance's`);
    const context = (back.snapshot(false).machine as { context: { config: unknown } }).context;
    assert.is(context.config, config, `${def.kind}: its machine context's`);
    assert.equal(bytesOf(back), bytesOf(inst), `${def.kind}: the same snapshot bytes`);
  }
});

test("a snapshot's configuration unlike every one kept stays its own", () => {
  const configs = kindConfigs([anomalyActor], { anomaly: { threshold: 0.75 } });
  const kept = configs.get("anomaly") as { threshold: number };
  assert.is(kept.threshold, 0.75);
  const other = ActorInstance.create(anomalyActor, "ch-2", { ...kept, threshold: 0.6 });
  const snap = saved(other);
  const back = ActorInstance.restore(anomalyActor, "ch-2", snap);
  assert.is(back.config, snap.config);
  assert.is((back.config as { threshold: number }).threshold, 0.6);
  assert.equal(bytesOf(back), bytesOf(other));
});

test("equal means the same fields in the same order with the same values", () => {
  kindConfigs([statsActor], { stats: { every_samples: 7 } });
  const kept = sharedConfig(statsActor, { every_samples: 7 });
  assert.ok(Object.isFrozen(kept), "an equal copy gives the kept one");
  const unlike = [
    { every_samples: 8 },
    { every_samples: "7" },
    { every_samples: 7, more: 1 },
    {},
  ];
  for (const c of unlike) assert.is(sharedConfig(statsActor, c), c, JSON.stringify(c));
  kindConfigs([barsActor], { bars: { history_bars: 100 } });
  const bars = sharedConfig(barsActor, {
    bar_sizes: ["1s", "1m", "5m", "1h", "1d"],
    history_bars: 100,
    close_grace_ms: 1000,
  });
  const reordered = {
    history_bars: 100,
    bar_sizes: ["1s", "1m", "5m", "1h", "1d"],
    close_grace_ms: 1000,
  };
  assert.is(sharedConfig(barsActor, reordered), reordered, "another order is another encoding");
  const fewer = { bar_sizes: ["1s", "1m"], history_bars: 100, close_grace_ms: 1000 };
  assert.is(sharedConfig(barsActor, fewer), fewer);
  assert.ok(Object.isFrozen(bars), "the kept bars configuration, found by value");
});

test.run();
