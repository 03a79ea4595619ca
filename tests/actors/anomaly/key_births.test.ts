/**
 * The anomaly kernel's keys' times of birth (actors/anomaly/_table.ts): each time held once for
 * the keys born at it, an index a key, as many as the key set's bound at most, and saved and
 * loaded as they are.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyKernel, defaultAnomalyConfig } from "../../../actors/anomaly/mod.ts";
import { createAnomalyState } from "../../../actors/anomaly/_state.ts";
import { bornOf, KEY_TIME, keyOf, KEYS_MAX, observe } from "../../../actors/anomaly/_table.ts";

const test = suite("anomaly keys' times of birth");

test("keys born at one time share it; a time again later is held again", () => {
  const st = createAnomalyState(defaultAnomalyConfig);
  KEY_TIME[0] = 5e6;
  for (let bin = 0; bin < 10; bin++) observe(st, 0, keyOf(0, bin));
  KEY_TIME[0] = 6e6;
  observe(st, 1, keyOf(1, 0));
  observe(st, 0, keyOf(0, 3)); // seen: no time added
  KEY_TIME[0] = 5e6;
  observe(st, 2, keyOf(2, 0));
  assert.is(st.birthCount, 3);
  assert.equal(Array.from(st.births.subarray(0, 3)), [5e6, 6e6, 5e6]);
  assert.is(bornOf(st, keyOf(0, 9)), 5e6);
  assert.is(bornOf(st, keyOf(1, 0)), 6e6);
  assert.is(bornOf(st, keyOf(2, 0)), 5e6);
  assert.is(bornOf(st, keyOf(2, 1)), -Infinity);
  // -0 is a time of its own: its bits are saved.
  KEY_TIME[0] = -0;
  observe(st, 3, keyOf(3, 0));
  KEY_TIME[0] = 0;
  observe(st, 3, keyOf(3, 1));
  assert.is(st.birthCount, 5);
  const loaded = anomalyKernel.load(anomalyKernel.save(st));
  assert.ok(Object.is(bornOf(loaded, keyOf(3, 0)), -0));
  assert.ok(Object.is(bornOf(loaded, keyOf(3, 1)), 0));
});

test("KEYS_MAX keys each born at a time of its own: every index fits, none past the bound", () => {
  const st = createAnomalyState(defaultAnomalyConfig);
  for (let k = 0; k < KEYS_MAX; k++) {
    KEY_TIME[0] = 1e6 * (k + 1);
    observe(st, k & 31, keyOf(k & 31, k >>> 5)); // 32 contexts, 2,048 bins each
  }
  assert.is(st.birthCount, KEYS_MAX);
  assert.is(bornOf(st, keyOf(0, 0)), 1e6);
  assert.is(bornOf(st, keyOf(31, 2047)), 1e6 * KEYS_MAX);
  KEY_TIME[0] = 1;
  assert.is(observe(st, 0, keyOf(0, 2048)), 0, "the set is full: nothing new is scored");
  assert.is(st.birthCount, KEYS_MAX);
  const loaded = anomalyKernel.load(anomalyKernel.save(st));
  assert.is(bornOf(loaded, keyOf(31, 2047)), 1e6 * KEYS_MAX);
  assert.equal(anomalyKernel.save(loaded), anomalyKernel.save(st));
});

test.run();
