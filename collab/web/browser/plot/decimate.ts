/**
 * Reduces a chart's window to what its pixels can show: for each of `buckets` runs of samples,
 * two points, at the run's lowest and highest value in time order, carrying the other series at
 * those samples, except the band's edges, which take the run's lowest lower and highest upper (so
 * the band drawn still covers every sample). The output goes into arrays the caller keeps, so a
 * redraw allocates nothing. Drawing 2,000 points into ~330 pixel columns costs uPlot about three
 * times the path segments that these ~660 points do.
 */

/** Column order of the inputs and outputs: time, value, expected, lower, upper. */
export const DECIMATE_COLUMNS = 5;

/**
 * Writes the reduced window of `src` (DECIMATE_COLUMNS views of one length) into `dst` (arrays of
 * at least `2 * buckets` values) and returns the number of points written. With no more samples
 * than `2 * buckets` it copies them as they are.
 */
export function decimate(src: Float64Array[], dst: Float64Array[], buckets: number): number {
  const [t, v, e, lo, up] = src as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const [dt, dv, de, dlo, dup] = dst as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const n = t.length;
  if (n <= 2 * buckets) {
    for (let c = 0; c < DECIMATE_COLUMNS; c++) dst[c]!.set(src[c]!);
    return n;
  }
  let m = 0, low = 0, high = 0;
  const put = (i: number) => {
    dt[m] = t[i]!;
    dv[m] = v[i]!;
    de[m] = e[i]!;
    dlo[m] = low;
    dup[m] = high;
    m++;
  };
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets), to = Math.floor(((b + 1) * n) / buckets);
    let iMin = from, iMax = from;
    low = lo[from]!;
    high = up[from]!;
    for (let i = from + 1; i < to; i++) {
      const x = v[i]!;
      if (x < v[iMin]!) iMin = i;
      if (x > v[iMax]!) iMax = i;
      if (lo[i]! < low) low = lo[i]!;
      if (up[i]! > high) high = up[i]!;
    }
    put(Math.min(iMin, iMax));
    if (iMin !== iMax) put(Math.max(iMin, iMax));
  }
  return m;
}
