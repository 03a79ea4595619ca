// TEMPORARY experiment hook: order-1 context views, options from globalThis.__ANOM_EXP.
import type { AnomalyState } from "./_state.ts";
export interface Opts {
  inc?: string;
  lvl?: string;
  q?: number;
  ql?: number;
  minN?: number;
  cls?: number;
  order?: number;
  chain?: number;
}
const gl = globalThis as unknown as { __ANOM_EXP?: Opts };
export function opts(): Opts | undefined {
  return gl.__ANOM_EXP;
}
interface Side {
  hist: Map<string, string[]>;
  n: Map<string, number>;
  d: Map<string, number>;
  set: Set<string>;
}
const sides = new WeakMap<AnomalyState, Side>();
function side(st: AnomalyState): Side {
  let s = sides.get(st);
  if (!s) {
    s = { hist: new Map(), n: new Map(), d: new Map(), set: new Set() };
    sides.set(st, s);
  }
  return s;
}
export const LAST = { bits: 0, n: 0, isNew: false };
/** Observes `sym` in the context of the previous `order` symbols of stream `view|g`. */
export function observe1(
  st: AnomalyState,
  stream: string,
  sym: string,
  ctxSym: string,
  order: number,
): void {
  const s = side(st);
  let hist = s.hist.get(stream);
  if (hist === undefined) s.hist.set(stream, hist = []);
  LAST.bits = 0, LAST.n = 0, LAST.isNew = false;
  if (hist.length === order) {
    const c = stream + "|" + hist.join(",");
    const n = s.n.get(c) ?? 0, d = s.d.get(c) ?? 0;
    s.n.set(c, n + 1);
    LAST.n = n;
    const k = c + ">" + sym;
    if (!s.set.has(k)) {
      s.set.add(k);
      s.d.set(c, d + 1);
      LAST.isNew = true;
      LAST.bits = -Math.log2((d + 1) / (n + d + 1));
    }
  }
  hist.push(ctxSym);
  if (hist.length > order) hist.shift();
}
export function incClass(z: number, cls: number): string {
  const a = Math.abs(z);
  if (cls === 1) return a < 1 ? "0" : a < 6 ? (z > 0 ? "u" : "d") : z > 0 ? "U" : "D";
  if (cls === 2) return a < 6 ? "0" : z > 0 ? "U" : "D";
  if (cls === 3) return a < 1 ? "0" : a < 3 ? (z > 0 ? "u" : "d") : a < 6 ? (z > 0 ? "v" : "e") : z > 0 ? "U" : "D";
  return "x";
}
/** Applies mode to an order-0 novelty b given the order-1 observation in LAST. */
export function apply(mode: string, b: number, minN: number): number {
  const e1 = LAST.bits, n1 = LAST.n;
  if (mode === "ctx") return b > 0 && n1 >= minN ? (LAST.isNew ? e1 : 0) : b;
  if (mode === "min") return b > 0 && n1 >= minN && e1 < b ? e1 : b;
  if (mode === "sum") return b > 0 ? b + e1 : b;
  if (mode === "trans") return n1 >= minN ? e1 : b;
  if (mode === "transmax") return n1 >= minN && e1 > b ? e1 : b;
  return b;
}
