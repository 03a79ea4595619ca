/**
 * M4 downsampling (Jugel et al., "M4: A Visualization-Oriented Time Series Data Aggregation",
 * VLDB 2014): the range [t0, t1) is cut into equal buckets, one per pixel column or so, and each
 * keeps its first, smallest, largest and last sample. A line drawn through those points is the
 * line drawn through all the samples, pixel for pixel, so no spike is lost however far out one
 * zooms. Samples are added frame by frame, in any order of frames; while they fit in the answer
 * they are kept as they are. Pure: typed arrays in, typed arrays out.
 */

/** The points an M4Buckets gives back, in time order. */
export interface M4Points {
  t: Float64Array;
  v: Float64Array;
  /** Samples added that fell in the range. */
  samples: number;
  bucket_us: number;
}

/** Options of an M4Buckets. */
export interface M4Options {
  t0: number;
  t1: number;
  /** Points the answer may hold: at most four a bucket, so `floor(points_max / 4)` buckets. */
  points_max: number;
}

/** Downsamples the samples added into at most `points_max` points over [t0, t1). */
export class M4Buckets {
  readonly t0: number;
  readonly t1: number;
  readonly buckets: number;
  readonly bucketWidth: number;
  readonly #pointsMax: number;
  #samples = 0;
  /** Per bucket: count, then first, min, max, last as (t, v) pairs. */
  readonly #count: Uint32Array;
  readonly #tv: Float64Array;
  /** The samples as they are, while they fit in `points_max` (then dropped), and how many are
   *  kept (-1 once they did not fit). Typed columns, not lists of numbers: each answer's new
   *  list changed shape at its first push (a list starts as one of small integers) and threw
   *  the optimised `add` back to the interpreter three times in a server's first answers
   *  (--trace-deopt: "wrong map", "lost precision or NaN"), so a server's first answers were
   *  slower than warm ones; with typed columns they are as fast (docs/performance.md). */
  readonly #rawT: Float64Array;
  readonly #rawV: Float64Array;
  #raw = 0;

  constructor(options: M4Options) {
    const { t0, t1, points_max } = options;
    if (!(t1 > t0) || !Number.isFinite(t0) || !Number.isFinite(t1)) {
      throw new RangeError(`M4Buckets needs finite t0 < t1, got t0 ${t0} and t1 ${t1}`);
    }
    if (!Number.isSafeInteger(points_max) || points_max < 4) {
      throw new RangeError(`M4Buckets points_max must be an integer >= 4, got ${points_max}`);
    }
    this.t0 = t0;
    this.t1 = t1;
    this.#pointsMax = points_max;
    this.buckets = Math.floor(points_max / 4);
    this.bucketWidth = (t1 - t0) / this.buckets;
    this.#count = new Uint32Array(this.buckets);
    this.#tv = new Float64Array(this.buckets * 8);
    this.#rawT = new Float64Array(points_max);
    this.#rawV = new Float64Array(points_max);
  }

  /** Samples added so far that fell in [t0, t1). */
  get samples(): number {
    return this.#samples;
  }

  /** Adds the samples of one frame (those outside [t0, t1) and NaN values are skipped). */
  add(t: Float64Array, v: Float64Array): void {
    const { t0, t1, bucketWidth } = this;
    const count = this.#count;
    const tv = this.#tv;
    const last = this.buckets - 1;
    const rawT = this.#rawT, rawV = this.#rawV, pointsMax = this.#pointsMax;
    let raw = this.#raw;
    for (let i = 0; i < t.length; i++) {
      const ti = t[i]!;
      const vi = v[i]!;
      if (!(ti >= t0 && ti < t1) || vi !== vi) continue;
      this.#samples++;
      if (raw >= 0) {
        if (raw < pointsMax) {
          rawT[raw] = ti;
          rawV[raw] = vi;
          raw++;
        } else raw = -1;
      }
      const b = Math.min(last, Math.floor((ti - t0) / bucketWidth));
      const o = b * 8;
      const seen = count[b]!;
      count[b] = seen + 1;
      if (seen === 0) {
        tv[o] =
          tv[o + 2] =
          tv[o + 4] =
          tv[o + 6] =
            ti;
        tv[o + 1] =
          tv[o + 3] =
          tv[o + 5] =
          tv[o + 7] =
            vi;
        continue;
      }
      if (ti < tv[o]!) (tv[o] = ti), (tv[o + 1] = vi);
      if (vi < tv[o + 3]!) (tv[o + 2] = ti), (tv[o + 3] = vi);
      if (vi > tv[o + 5]!) (tv[o + 4] = ti), (tv[o + 5] = vi);
      if (ti >= tv[o + 6]!) (tv[o + 6] = ti), (tv[o + 7] = vi);
    }
    this.#raw = raw;
  }

  /** The points: every sample, in time order, when they fit; else each bucket's M4 points. */
  points(): M4Points {
    if (this.#raw >= 0) return this.#rawPoints(this.#raw);
    const t = new Float64Array(this.buckets * 4);
    const v = new Float64Array(this.buckets * 4);
    let n = 0;
    const tv = this.#tv;
    const pt: number[] = [0, 0, 0, 0];
    const pv: number[] = [0, 0, 0, 0];
    for (let b = 0; b < this.buckets; b++) {
      if (this.#count[b] === 0) continue;
      // The four in time order, each sample once (first, min, max and last may coincide).
      let k = 0;
      for (let j = 0; j < 4; j++) {
        const tj = tv[b * 8 + j * 2]!, vj = tv[b * 8 + j * 2 + 1]!;
        let at = k;
        let dup = false;
        for (let q = 0; q < k; q++) {
          if (pt[q] === tj && pv[q] === vj) dup = true;
        }
        if (dup) continue;
        while (at > 0 && pt[at - 1]! > tj) {
          pt[at] = pt[at - 1]!;
          pv[at] = pv[at - 1]!;
          at--;
        }
        pt[at] = tj;
        pv[at] = vj;
        k++;
      }
      for (let q = 0; q < k; q++) (t[n] = pt[q]!), (v[n] = pv[q]!), n++;
    }
    return {
      t: t.slice(0, n),
      v: v.slice(0, n),
      samples: this.#samples,
      bucket_us: this.bucketWidth,
    };
  }

  #rawPoints(n: number): M4Points {
    const rawT = this.#rawT, rawV = this.#rawV;
    const order = Array.from({ length: n }, (_, i) => i);
    // Frames may come out of order (two feeds of one channel): sort, stably.
    let sorted = true;
    for (let i = 1; i < n; i++) if (rawT[i]! < rawT[i - 1]!) sorted = false;
    if (!sorted) order.sort((a, b) => rawT[a]! - rawT[b]! || a - b);
    const t = new Float64Array(order.length);
    const v = new Float64Array(order.length);
    for (let i = 0; i < order.length; i++) {
      t[i] = rawT[order[i]!]!;
      v[i] = rawV[order[i]!]!;
    }
    return { t, v, samples: this.#samples, bucket_us: this.bucketWidth };
  }
}
