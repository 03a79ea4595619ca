/**
 * What a channel costs for its life (channel_budget.ts) counts the default bars kind's rings full:
 * the constant is the bars kind's defaults (sizes, bars kept, columns), and a bars state fed until
 * every ring is full holds that many bytes of bars (a scraped metric's less, its one-second ring
 * narrow), and saves every ring as seven columns.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { barsActor, type BarsState, defaultBarsConfig } from "../../../../actors/bars/mod.ts";
import {
  BARS_BYTES_FULL,
  BARS_BYTES_FULL_SCRAPED,
  CHANNEL_BYTES,
} from "../../../../actors/runtime/mod.ts";

const test = suite("channel budget");

/** A bars state fed 501 days of a sample each half hour, then two days of one each 15 s, then
 *  `ticks` samples half a second apart: every ring full, each size's last 500 bars of several
 *  samples but the one-second bars unless ticks came. */
function fedForLife(ticks: number): BarsState {
  const kernel = barsActor.kernel;
  const state = kernel.init(defaultBarsConfig, "c") as BarsState;
  const slow = 501 * 48, fast = 2 * 24 * 240, n = slow + fast + ticks;
  const t0 = Date.UTC(2024, 0, 1) * 1000;
  const tFast = t0 + slow * 1800e6;
  const tTicks = tFast + fast * 15e6;
  const t = Float64Array.from(
    { length: n },
    (_, i) =>
      i < slow
        ? t0 + i * 1800e6
        : i < slow + fast
        ? tFast + (i - slow) * 15e6
        : tTicks + (i - slow - fast) * 0.5e6,
  );
  const v = Float64Array.from({ length: n }, (_, i) => i % 7);
  kernel.step(state, { channel: "c", seq0: 0, t, v });
  return state;
}

const heldBytes = (state: BarsState) =>
  state.sizes.reduce((sum, size) => sum + size.ring.byteLength, 0);

test("a channel's cost counts the default rings full, as a channel sampled faster than 1/s holds them", () => {
  const { bar_sizes, history_bars } = defaultBarsConfig;
  assert.is(BARS_BYTES_FULL, bar_sizes.length * history_bars * 7 * 8);
  // Ticks two a second for 600 s: the one-second ring's last 500 bars of two samples each.
  const ticked = fedForLife(1200);
  assert.is(heldBytes(ticked), BARS_BYTES_FULL);
  const saved = barsActor.kernel.save(ticked).length;
  assert.ok(saved >= BARS_BYTES_FULL && saved < BARS_BYTES_FULL + 1024, `${saved} bytes`);
  assert.ok(CHANNEL_BYTES > BARS_BYTES_FULL);
});

test("a scraped metric's rings hold less once full: its one-second bars in two columns", () => {
  const { bar_sizes, history_bars } = defaultBarsConfig;
  assert.is(BARS_BYTES_FULL_SCRAPED, (2 + (bar_sizes.length - 1) * 7) * history_bars * 8);
  const scraped = fedForLife(0);
  assert.is(heldBytes(scraped), BARS_BYTES_FULL_SCRAPED);
  // Saved as seven columns all the same: a snapshot does not depend on the ring's width.
  const saved = barsActor.kernel.save(scraped).length;
  assert.ok(saved >= BARS_BYTES_FULL && saved < BARS_BYTES_FULL + 1024, `${saved} bytes`);
});

test.run();
