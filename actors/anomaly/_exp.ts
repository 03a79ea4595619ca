// TEMPORARY experiment hook: the likelihood stage, options from globalThis.__ANOM_EXP.
import type { AnomalyState } from "./_state.ts";
interface Opts {
  mode: string; short: number; long: number; agg: string; dist: string; floor: number;
  combine: string; range: number; scale: number; minK: number; embins: number;
  where?: string; settleRaw?: number; ecap?: number; ecomb?: string;
}
const g = globalThis as unknown as { __ANOM_EXP?: Opts };
export function opts(): Opts | undefined {
  return g.__ANOM_EXP;
}
interface Cal { ring: Float64Array; at: number; sum: number; k: number; mu: number; m2: number; hist: Float64Array; tot: number }
const cals = new WeakMap<AnomalyState, Cal>();
function lnErfcPos(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  return Math.log(t) + (-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
}
function erfc(x: number): number {
  const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}
/** raw in [0,1]; returns the calibrated score in [0,1]. */
const cals2 = new WeakMap<AnomalyState, Cal>();
export function calibrateErr(st: AnomalyState, e: number, o: Opts): number {
  return calibrate(st, e, o, cals2);
}
export function calibrate(st: AnomalyState, raw: number, o: Opts, map = cals): number {
  let c = map.get(st);
  if (!c) {
    c = { ring: new Float64Array(o.short), at: 0, sum: 0, k: 0, mu: 0, m2: 0, hist: new Float64Array(o.embins), tot: 0 };
    map.set(st, c);
  }
  const old = c.ring[c.at]!;
  c.ring[c.at] = raw;
  c.at = (c.at + 1) % o.short;
  let m: number;
  if (o.agg === "count") {
    let kk = 0;
    for (let j = 0; j < o.short; j++) if (c.ring[j]! > 0) kk++;
    m = kk / o.short;
  } else if (o.agg === "max") {
    m = 0;
    for (let j = 0; j < o.short; j++) if (c.ring[j]! > m) m = c.ring[j]!;
  } else {
    c.sum += raw - old;
    m = c.sum / o.short;
  }
  let tail = 1, lnTail = NaN;
  if (c.k >= o.minK) {
    if (o.dist === "poisson") {
      const mu = Math.max(c.mu, 1e-6) * o.short, kk = Math.round(m * o.short);
      let term = Math.exp(-mu), cdf = 0;
      for (let j = 0; j < kk; j++) { cdf += term; term *= mu / (j + 1); }
      tail = kk === 0 ? 1 : Math.max(1 - cdf, term);
    } else if (o.dist === "normal") {
      let mu = c.mu, v = c.m2;
      if (o.floor) {
        if (mu < 0.03) mu = 0.03;
        if (v < 0.0003) v = 0.0003;
      }
      const zz = (m - mu) / Math.sqrt(v);
      tail = zz > 0 ? 0.5 * erfc(zz / Math.SQRT2) : 1;
      lnTail = zz > 0 ? Math.log(0.5) + lnErfcPos(zz / Math.SQRT2) : 0;
    } else {
      const b = Math.min(o.embins - 1, Math.floor(m * o.embins));
      let above = 0;
      for (let j = b; j < o.embins; j++) above += c.hist[j]!;
      tail = (above + 1) / (c.tot + 2);
    }
  }
  // learn
  const a = Math.max(1 / (c.k + 1), 2 / (o.long + 1));
  const d = m - c.mu;
  c.mu += a * d;
  c.m2 = (1 - a) * (c.m2 + a * d * d);
  if (o.dist !== "normal") {
    const decay = 1 - 2 / (o.long + 1);
    if (c.k >= o.long) { for (let j = 0; j < o.embins; j++) c.hist[j]! *= decay; c.tot *= decay; }
    const b = Math.min(o.embins - 1, Math.floor(m * o.embins));
    c.hist[b] = c.hist[b]! + 1;
    c.tot += 1;
  }
  c.k++;
  let sc = -(lnTail === lnTail ? lnTail : Math.log(tail)) / o.scale;
  if (o.scale === 0) sc = (-(lnTail === lnTail ? lnTail : Math.log(tail)) / Math.LN2 - 5) / 10;
  if (sc < 0) sc = 0;
  if (sc > 1) sc = 1;
  if (o.combine === "max") return sc > raw ? sc : raw;
  if (o.combine === "mean") return (sc + raw) / 2;
  if (o.combine === "min") return sc < raw ? sc : raw;
  if (o.combine === "prod") return Math.sqrt(sc * raw);
  return sc;
}

export const PRE = new Float64Array(1);
