/**
 * Stuck readings. A channel whose values are far finer than its noise (a gauge in floating point:
 * memory or CPU percentages, latencies) almost never repeats a value exactly: with differences of
 * noise scale sigma on a grid of step q, a repeat has probability about q / (3.5 sigma). So when
 * such a channel does repeat its last value, the reading is held, not measured: a metric clipped
 * at its ceiling (memory pinned at 100%), an exporter that froze. A held reading says nothing of
 * where the value is, and taken as a measurement it reads as noise that vanished (a regime of no
 * noise), then as a change when the values move again. The kernel takes it as missing: time
 * passes (the next reading's hazard counts it, lines are carried across it), nothing is learnt.
 *
 * Counts and other coarse values (errors, requests: q = 1) repeat by chance and are measured as
 * ever: a repeat counts as held only where it is improbable, q under STUCK_GRID_RATIO noise
 * scales (a chance repeat about 1 in 3,500 samples), and only once the running scale is settled.
 */
import { type Running, scaleSettled } from "./_running.ts";

/** A repeat is held when the channel's quantum is under this fraction of its noise scale. */
export const STUCK_GRID_RATIO = 1e-3;

/** Whether `x`, a valid reading, repeats the last one on a channel where repeats are improbable. */
export function isStuck(r: Running, x: number, sigma: number): boolean {
  return x === r.prevX && scaleSettled(r) && r.quantum < STUCK_GRID_RATIO * sigma;
}
