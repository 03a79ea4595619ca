// TEMPORARY experiment hook (reverted): other views' novelty after the moves' classes.
import type { AnomalyState } from "./_state.ts";
export interface Opts {
  lvl?: number;
  hr?: number;
  slp?: number;
  minN?: number;
}
const gl = globalThis as unknown as { __ANOM_EXP?: Opts };
export function opts(): Opts | undefined {
  return gl.__ANOM_EXP;
}
interface Side {
  n: Map<string, number>;
  d: Map<string, number>;
  set: Set<string>;
}
const sides = new WeakMap<AnomalyState, Side>();
function side(st: AnomalyState): Side {
  let s = sides.get(st);
  if (!s) sides.set(st, s = { n: new Map(), d: new Map(), set: new Set() });
  return s;
}
function obs(s: Side, c: string, sym: string): [number, number] {
  const n = s.n.get(c) ?? 0, d = s.d.get(c) ?? 0;
  s.n.set(c, n + 1);
  const k = c + ">" + sym;
  if (s.set.has(k)) return [n, 0];
  s.set.add(k);
  s.d.set(c, d + 1);
  return [n, -Math.log2((d + 1) / (n + d + 1))];
}
/** Bits of the longest met context (order 2 then 1) of stream, -1 if none. */
export function after(
  st: AnomalyState,
  stream: string,
  sym: string,
  m2: number,
  m1: number,
  minN: number,
): number {
  if (m1 < 0) return -1;
  const s = side(st);
  const [n1, b1] = obs(s, stream + "|" + m1, sym);
  let bits = n1 >= minN ? b1 : -1;
  if (m2 >= 0) {
    const [n2, b2] = obs(s, stream + "|" + m2 + "," + m1, sym);
    if (n2 >= minN) bits = b2;
  }
  return bits;
}
