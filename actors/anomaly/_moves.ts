/**
 * The increment view's higher orders, as PPM predicts a symbol from the contexts of the last one
 * and two (Cleary and Witten 1984): a move is also looked up after the class of the move before
 * it, and of the two before it, and a move new to the channel is scored by the Witten–Bell escape
 * of the longest of those contexts met before. After the moves a spiky channel makes around its
 * spikes, new moves are common, so one costs few bits; after calm, it costs many.
 */
import { INCREMENT_RANGE } from "./_bins.ts";
import { keyOf, observe } from "./_table.ts";
import { HOURS, MOVE_CLASSES } from "./_state.ts";
import type { AnomalyState } from "./_state.ts";

/** A grid's first context after one class of move; those after two classes follow them. */
const ORDER1 = HOURS + 3, ORDER2 = ORDER1 + MOVE_CLASSES;

/**
 * The class of a move of `z` mean absolute increments: calm (under one, the scale's own unit), up
 * or down, a jump up or down (past the increment bins' range, where the jump view starts).
 */
export function moveClass(z: number): number {
  const a = z < 0 ? -z : z;
  return a < 1 ? 0 : a < INCREMENT_RANGE ? (z > 0 ? 1 : 2) : z > 0 ? 3 : 4;
}

/**
 * Counts increment bin `bin` in grid context `c`'s contexts after the last class of move `last`
 * and the one before it, `before` (-1: none yet); the surprise in bits of the longest context met
 * before (0 where it holds the bin), or -1 when neither was.
 */
export function observeMoves(
  st: AnomalyState,
  c: number,
  before: number,
  last: number,
  bin: number,
): number {
  if (last < 0) return -1;
  const c1 = c + ORDER1 + last;
  const met1 = st.ctx[2 * c1]! > 0;
  let bits = observe(st, c1, keyOf(c1, bin));
  if (!met1) bits = -1;
  if (before < 0) return bits;
  const c2 = c + ORDER2 + MOVE_CLASSES * before + last;
  const met2 = st.ctx[2 * c2]! > 0;
  const bits2 = observe(st, c2, keyOf(c2, bin));
  return met2 ? bits2 : bits;
}
