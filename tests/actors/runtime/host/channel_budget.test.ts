/**
 * What a channel costs for its life (channel_budget.ts) counts the default bars kind's rings full:
 * the constant is the bars kind's defaults (sizes, bars kept, columns), and a bars state fed as a
 * scraped metric until every ring is full holds that many bytes of bars, and saves every ring as
 * seven columns.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { barsActor, type BarsState, defaultBarsConfig } from "../../../../actors/bars/mod.ts";
import { BARS_BYTES_FULL, CHANNEL_BYTES } from "../../../../actors/runtime/mod.ts";

const test = suite("channel budget");

test("the bars' part of a channel's cost is the default rings, full, of a scraped metric", () => {
  const { bar_sizes, history_bars } = defaultBarsConfig;
  // One-second bars of one sample each in two columns, the other sizes' in seven.
  assert.is(BARS_BYTES_FULL, (2 + (bar_sizes.length - 1) * 7) * history_bars * 8);
  // 501 days of a sample each half hour, then two days of one each 15 s: every ring full, the
  // last 500 bars of each size of several samples but the one-second bars.
  const kernel = barsActor.kernel;
  const state = kernel.init(defaultBarsConfig, "c") as BarsState;
  const slow = 501 * 48, fast = 2 * 24 * 240, n = slow + fast;
  const t0 = Date.UTC(2024, 0, 1) * 1000;
  const t = Float64Array.from(
    { length: n },
    (_, i) => i < slow ? t0 + i * 1800e6 : t0 + slow * 1800e6 + (i - slow) * 15e6,
  );
  const v = Float64Array.from({ length: n }, (_, i) => i % 7);
  kernel.step(state, { channel: "c", seq0: 0, t, v });
  const held = state.sizes.reduce((sum, size) => sum + size.ring.byteLength, 0);
  assert.is(held, BARS_BYTES_FULL);
  const saved = kernel.save(state).length;
  const wide = bar_sizes.length * history_bars * 7 * 8;
  assert.ok(saved >= wide && saved < wide + 1024, `${saved} bytes`);
  assert.ok(CHANNEL_BYTES > BARS_BYTES_FULL);
});

test.run();
