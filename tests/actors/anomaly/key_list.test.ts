/**
 * The anomaly kernel's key set while it is a list (actors/anomaly/_table.ts): a list past its first
 * room goes to four times it, then doubles up to the keys a list holds, and a saved list loads into
 * the room it grew to.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyKernel, defaultAnomalyConfig } from "../../../actors/anomaly/mod.ts";
import { createAnomalyState } from "../../../actors/anomaly/_state.ts";
import {
  KEY_TIME,
  keyOf,
  KEYS_INITIAL,
  LIST_INITIAL,
  listRoom,
  observe,
} from "../../../actors/anomaly/_table.ts";

const test = suite("anomaly key list");

/** The rooms a list holds as `n` distinct keys come, each once, in order. */
function roomsMet(n: number): number[] {
  const st = createAnomalyState(defaultAnomalyConfig);
  const rooms = [st.keys.length];
  for (let k = 0; k < n; k++) {
    KEY_TIME[0] = 1e6 * (k + 1);
    observe(st, k & 15, keyOf(k & 15, k >>> 4));
    if (st.keys.length !== rooms[rooms.length - 1]) rooms.push(st.keys.length);
  }
  return rooms;
}

test("a list past its first room goes to four times it, then doubles, then it is a table", () => {
  assert.equal(roomsMet(KEYS_INITIAL / 2), [LIST_INITIAL, 64, 128, 256, KEYS_INITIAL / 2]);
  assert.equal(roomsMet(KEYS_INITIAL / 2 + 1), [LIST_INITIAL, 64, 128, 256, 512, KEYS_INITIAL]);
});

test("listRoom gives the room a list grew to for its keys, and a saved list loads into it", () => {
  for (const n of [1, 16, 17, 64, 65, 200, 256, 257, 511, 512]) {
    const st = createAnomalyState(defaultAnomalyConfig);
    for (let k = 0; k < n; k++) {
      KEY_TIME[0] = 1e6;
      observe(st, k & 15, keyOf(k & 15, k >>> 4));
    }
    assert.is(listRoom(n), st.keys.length, `${n} keys`);
    const loaded = anomalyKernel.load(anomalyKernel.save(st));
    assert.is(loaded.keys.length, st.keys.length, `${n} keys, loaded`);
    assert.equal(anomalyKernel.save(loaded), anomalyKernel.save(st));
  }
});

test.run();
