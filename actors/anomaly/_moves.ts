/**
 * The increment view's higher orders, as PPM predicts a symbol after the last one and two
 * (Cleary and Witten 1984): a move is also counted after the class of the move before it, and of
 * the two before it, and a move new to the channel costs the Witten–Bell escape of the longest of
 * those contexts met before. Around a spiky channel's spikes new moves are common, so cheap.
 */
import { INCREMENT_RANGE } from "./_bins.ts";
import { keyOf, observe } from "./_table.ts";
import { type AnomalyState, HOURS, MOVE_CLASSES } from "./_state.ts";

/** A grid's first context after one class of move; those after two follow them. */
const ORDER1 = HOURS + 3, ORDER2 = ORDER1 + MOVE_CLASSES;

/** A move of `z` mean absolute increments: calm (under 1), up, down, a jump up or down. */
export function moveClass(z: number): number {
  const a = z < 0 ? -z : z;
  return a < 1 ? 0 : a < INCREMENT_RANGE ? (z > 0 ? 1 : 2) : z > 0 ? 3 : 4;
}

/**
 * Counts increment bin `bin` after the classes `before` and `last` (-1: none yet) in grid
 * context `c`; the bits of the longest context met before (0 where it holds the bin), else -1.
 */
export function observeMoves(
  st: AnomalyState,
  c: number,
  before: number,
  last: number,
  bin: number,
): number {
  if (last < 0) return -1;
  const c1 = c + ORDER1 + last, met1 = st.ctx[2 * c1]! > 0;
  const bits = observe(st, c1, keyOf(c1, bin));
  if (before < 0) return met1 ? bits : -1;
  const c2 = c + ORDER2 + MOVE_CLASSES * before + last, met2 = st.ctx[2 * c2]! > 0;
  const bits2 = observe(st, c2, keyOf(c2, bin));
  return met2 ? bits2 : met1 ? bits : -1;
}
