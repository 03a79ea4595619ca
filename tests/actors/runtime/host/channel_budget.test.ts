/**
 * What a channel costs for its life (channel_budget.ts) counts the default bars kind's rings full:
 * the constant is the bars kind's defaults (sizes, bars kept, columns), and a bars state fed
 * until every ring is full saves that many bytes of bars and little more.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { barsActor, defaultBarsConfig } from "../../../../actors/bars/mod.ts";
import { BARS_BYTES_FULL, CHANNEL_BYTES } from "../../../../actors/runtime/mod.ts";

const test = suite("channel budget");

test("the bars' part of a channel's cost is the default rings, full", () => {
  const { bar_sizes, history_bars } = defaultBarsConfig;
  assert.is(BARS_BYTES_FULL, bar_sizes.length * history_bars * 7 * 8);
  // One sample an hour for 501 days: a new bar of every size each sample, a daily one each day.
  const kernel = barsActor.kernel;
  const state = kernel.init(defaultBarsConfig, "c");
  const n = 501 * 24;
  const t = Float64Array.from({ length: n }, (_, i) => 1.7e15 + i * 3600e6);
  const v = Float64Array.from({ length: n }, (_, i) => i % 7);
  kernel.step(state, { channel: "c", seq0: 0, t, v });
  const saved = kernel.save(state).length;
  assert.ok(saved >= BARS_BYTES_FULL && saved < BARS_BYTES_FULL + 1024, `${saved} bytes`);
  assert.ok(CHANNEL_BYTES > BARS_BYTES_FULL);
});

test.run();
