/**
 * The tick a bars state waits for (`tickDue`): the earliest end, plus the grace, of an open bar
 * that is not one sample's. A size whose every bar so far, and its open bar, is one sample's (a
 * scraped metric's one-second bars) is closed by the channel's next sample, or by the tick of a
 * coarser bar; where every open bar is so, the tick closes the last-ending of them, and with it all.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type BarsConfig,
  barsKernel,
  type BarsState,
  CLOSED_FIELDS,
} from "../../../actors/bars/mod.ts";

const test = suite("bars tickDue");

const T0 = 1_699_999_980_000_000; // µs, a whole minute
const S = 1_000_000;

function state(sizes: string[]): BarsState {
  const config: BarsConfig = { bar_sizes: sizes, history_bars: 50, close_grace_ms: 1000 };
  return barsKernel.init(config, "c");
}

/** Steps `s` with one frame of samples at `ts` (µs), values 1, 2, ...; the bars it closed. */
function step(s: BarsState, ts: number[]): string[] {
  const t = Float64Array.from(ts), v = Float64Array.from(ts, (_, i) => i + 1);
  return closedOf(barsKernel.step(s, { channel: "c", seq0: 0, t, v }));
}

/** The bars a step or an advance closed, as `<size s>@<start s past T0>x<count>`. */
function closedOf(c: { count: number; data: Float64Array }): string[] {
  const out: string[] = [];
  for (let i = 0; i < c.count; i++) {
    const d = c.data.subarray(i * CLOSED_FIELDS, (i + 1) * CLOSED_FIELDS);
    out.push(`${d[0]! / S}@${(d[1]! - T0) / S}x${d[6]}`);
  }
  return out;
}

test("a channel sampled every 15 s: its one-second bars wait for its next sample, its minute's bar for a tick", () => {
  const s = state(["1s", "1m"]);
  assert.equal(step(s, [T0 + 5 * S]), []);
  // No one-second bar held yet: nothing says they are one sample each, so the first is ticked.
  assert.equal(barsKernel.tickDue(s), { ts: T0 + 7 * S, quietMs: 2000 });
  assert.equal(closedOf(barsKernel.advance(s, T0 + 7 * S)), ["1@5x1"]);
  assert.equal(barsKernel.tickDue(s), { ts: T0 + 61 * S, quietMs: 61_000 });
  // From here each one-second bar is closed by the next sample, and none is waited for.
  assert.equal(step(s, [T0 + 20 * S]), []);
  assert.equal(barsKernel.tickDue(s), { ts: T0 + 61 * S, quietMs: 61_000 });
  assert.equal(step(s, [T0 + 35 * S]), ["1@20x1"]);
  assert.equal(step(s, [T0 + 50 * S]), ["1@35x1"]);
  assert.equal(step(s, [T0 + 65 * S]), ["1@50x1", "60@0x4"]);
  // The channel goes quiet: the minute's tick closes its bar and the last one-second bar with it.
  assert.equal(barsKernel.tickDue(s), { ts: T0 + 121 * S, quietMs: 61_000 });
  assert.equal(closedOf(barsKernel.advance(s, T0 + 121 * S)), ["1@65x1", "60@60x1"]);
  assert.is(barsKernel.tickDue(s), undefined);
});

test("bars of more than one sample are ticked at their end and the grace, as before", () => {
  const s = state(["1s", "1m"]);
  assert.equal(step(s, [T0 + 5 * S, T0 + 5.5 * S]), []);
  assert.equal(closedOf(barsKernel.advance(s, T0 + 7 * S)), ["1@5x2"]);
  assert.equal(step(s, [T0 + 20 * S]), []);
  assert.equal(barsKernel.tickDue(s), { ts: T0 + 22 * S, quietMs: 2000 });
  // An open bar of two samples in a ring of one-sample bars is ticked too.
  const n = state(["1s", "1m"]);
  step(n, [T0 + 5 * S]);
  barsKernel.advance(n, T0 + 7 * S);
  step(n, [T0 + 20 * S, T0 + 20.5 * S]);
  assert.equal(barsKernel.tickDue(n), { ts: T0 + 22 * S, quietMs: 2000 });
});

test("where every open bar is one sample's, the tick is the last-ending one's, closing them all", () => {
  const s = state(["1s", "1m"]);
  // A sample every two minutes: one-second and one-minute bars alike hold one sample each.
  step(s, [T0 + 5 * S]);
  assert.equal(closedOf(barsKernel.advance(s, T0 + 61 * S)), ["1@5x1", "60@0x1"]);
  assert.equal(step(s, [T0 + 125 * S]), []);
  assert.equal(barsKernel.tickDue(s), { ts: T0 + 181 * S, quietMs: 61_000 });
  assert.equal(closedOf(barsKernel.advance(s, T0 + 181 * S)), ["1@125x1", "60@120x1"]);
  // One size only: its bar is still ticked, a quiet channel's last bar closes.
  const one = state(["1s"]);
  step(one, [T0 + 5 * S]);
  barsKernel.advance(one, T0 + 7 * S);
  step(one, [T0 + 20 * S]);
  assert.equal(barsKernel.tickDue(one), { ts: T0 + 22 * S, quietMs: 2000 });
});

test("a state saved and loaded waits for the tick the live one does", () => {
  const s = state(["1s", "1m", "5m"]);
  for (let k = 0; k < 30; k++) step(s, [T0 + (5 + 15 * k) * S]);
  const loaded = barsKernel.load(barsKernel.save(s).slice());
  assert.equal(barsKernel.tickDue(loaded), barsKernel.tickDue(s));
  assert.equal(barsKernel.tickDue(s), { ts: T0 + 481 * S, quietMs: 61_000 });
});

test.run();
