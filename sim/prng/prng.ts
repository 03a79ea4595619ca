/**
 * A seeded pseudo-random generator: sfc32 (Chris Doty-Humphrey's small fast counter), seeded
 * through splitmix32, with the distributions troupe's feeds and simulator need. Its whole state is
 * four 32-bit words, so it can be saved in a kernel's or simulator's state and restored exactly.
 * `Math.random` is never used where replay matters: this is. Its normal, exponential and Poisson
 * draws take their log and exp from actors/math/portable_math.ts, so a seed gives the same draws on
 * every runtime, not only from run to run.
 */
import { expFast, logFast } from "../../actors/math/mod.ts";

/** The saved state of a Prng: four unsigned 32-bit words. */
export type PrngState = [number, number, number, number];

/** A seeded PRNG. The same seed gives the same sequence on every runtime. */
export class Prng {
  // sfc32's state: three words and a counter.
  #stateA: number;
  #stateB: number;
  #stateC: number;
  #counter: number;
  // The second draw of the polar method, kept as a number and a flag (a field that switches
  // between a number and undefined costs an allocation per draw).
  #spare = 0;
  #hasSpare = false;

  constructor(seed: number | string | PrngState) {
    if (Array.isArray(seed)) {
      [this.#stateA, this.#stateB, this.#stateC, this.#counter] = seed.map((x) =>
        x >>> 0
      ) as PrngState;
      return;
    }
    let s = typeof seed === "number"
      ? seed >>> 0 ^ Math.floor(seed / 0x100000000)
      : hashString(seed);
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#stateA = next();
    this.#stateB = next();
    this.#stateC = next();
    this.#counter = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /**
   * The generator's state, for saving. (A cached spare normal is dropped, so save between draws.)
   */
  state(): PrngState {
    return [this.#stateA, this.#stateB, this.#stateC, this.#counter];
  }

  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.#stateA + this.#stateB) | 0) + this.#counter) | 0;
    this.#counter = (this.#counter + 1) | 0;
    this.#stateA = this.#stateB ^ (this.#stateB >>> 9);
    this.#stateB = (this.#stateC + (this.#stateC << 3)) | 0;
    this.#stateC = (this.#stateC << 21) | (this.#stateC >>> 11);
    this.#stateC = (this.#stateC + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A standard normal draw (Marsaglia's polar method). */
  normal(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * logFast(s)) / s);
    this.#spare = v * f;
    this.#hasSpare = true;
    return u * f;
  }

  /**
   * Fills `out` with standard normal draws: the same values, in order, as `out.length` calls of
   * `normal()` (a spare left over stays for the next draw), without a call per value.
   */
  fillNormals(out: Float64Array): void {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.#hasSpare) {
      this.#hasSpare = false;
      out[i++] = this.#spare;
    }
    while (i < n) {
      let u: number, v: number, s: number;
      do {
        u = 2 * this.next() - 1;
        v = 2 * this.next() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * logFast(s)) / s);
      out[i++] = u * f;
      if (i < n) out[i++] = v * f;
      else {
        this.#spare = v * f;
        this.#hasSpare = true;
      }
    }
  }

  /** An exponential draw with the given rate. */
  exponential(rate = 1): number {
    return -logFast(1 - this.next()) / rate;
  }

  /** A chi-squared draw with `k` (integer) degrees of freedom. */
  chiSquared(k: number): number {
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const z = this.normal();
      sum += z * z;
    }
    return sum;
  }

  /** A Student-t draw with `nu` (integer) degrees of freedom: heavy-tailed noise. */
  studentT(nu: number): number {
    return this.normal() / Math.sqrt(this.chiSquared(nu) / nu);
  }

  /** A Poisson draw (Knuth's method for small means, normal approximation for large). */
  poisson(mean: number): number {
    if (mean > 60) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = expFast(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** A new generator derived from this one and a label: independent streams from one seed. */
  fork(label: string): Prng {
    const h = hashString(label);
    return new Prng([
      this.nextUint32() ^ h,
      this.nextUint32(),
      this.nextUint32() ^ Math.imul(h, 0x9e3779b1),
      this.nextUint32(),
    ]);
  }
}

/** FNV-1a of a string: seeds from names. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
