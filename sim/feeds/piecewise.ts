/**
 * Labelled piecewise-stationary series for scoring change-point detectors: segments of random
 * length, each beginning with a mean shift, a variance shift or a trend change, under Gaussian or
 * Student-t(3) noise, all drawn from one seed. The true change indices come with the values, so a
 * benchmark or a test knows exactly where every regime began. Sizes are in units of the noise's
 * standard deviation at that point (Student-t(3) noise is scaled to unit variance, so "a 2 sigma
 * shift" means the same under both noises).
 */
import { Prng } from "../prng.ts";

/** What changes at a change point. */
export type PiecewiseChangeKind = "mean" | "variance" | "trend";
/** The noise around the piecewise mean. */
export type PiecewiseNoise = "gaussian" | "t3";

/** Options of `piecewise`. Every size is in noise standard deviations at the change. */
export interface PiecewiseOptions {
  /** Samples to generate, 1 to 10^8. */
  length: number;
  /** Kinds of change to draw from, uniformly. Default ["mean", "variance"]. */
  kinds?: readonly PiecewiseChangeKind[];
  /** Default "gaussian". */
  noise?: PiecewiseNoise;
  /** Segment lengths are uniform integers in [segmentMin, segmentMax]. Default 100 and 400. */
  segmentMin?: number;
  segmentMax?: number;
  /** Mean shifts are uniform in [shiftMin, shiftMax] sigmas, up or down. Default 2 and 5. */
  shiftMin?: number;
  shiftMax?: number;
  /** Variance shifts multiply the standard deviation by a factor uniform in [spreadMin, spreadMax], or divide it. Default 2 and 4. */
  spreadMin?: number;
  spreadMax?: number;
  /** A trend change starts a slope uniform in [slopeMin, slopeMax] sigmas per sample (either sign), or ends one. Default 0.02 and 0.1. */
  slopeMin?: number;
  slopeMax?: number;
  /** The first segment's mean and standard deviation. Default 0 and 1. */
  level?: number;
  sigma?: number;
  /** Generate no change at all: stationary noise (false alarm measurements). Default false. */
  stationary?: boolean;
}

/** One segment: from `start` the series is mean + slope * (i - start) plus noise of `sd`. */
export interface PiecewiseSegment {
  start: number;
  /** What began the segment ("start" for the first). */
  kind: PiecewiseChangeKind | "start";
  mean: number;
  slope: number;
  sd: number;
}

/** A generated series and its truth. */
export interface PiecewiseSeries {
  values: Float64Array;
  /** Indices at which a new segment begins (0 excluded), ascending. */
  changes: number[];
  segments: PiecewiseSegment[];
}

const LENGTH_MAX = 1e8;
/** The standard deviation is kept within this factor of `sigma` (variance shifts turn back). */
const SD_RANGE = 64;

function check(name: string, value: number, ok: boolean): void {
  if (!ok || !Number.isFinite(value)) {
    throw new RangeError(`piecewise(): option "${name}" is out of range, got ${value}`);
  }
}

/** The options with their defaults, checked. */
function resolve(options: PiecewiseOptions): Required<PiecewiseOptions> {
  const {
    length,
    kinds = ["mean", "variance"],
    noise = "gaussian",
    segmentMin = 100,
    segmentMax = 400,
    shiftMin = 2,
    shiftMax = 5,
    spreadMin = 2,
    spreadMax = 4,
    slopeMin = 0.02,
    slopeMax = 0.1,
    level = 0,
    sigma = 1,
    stationary = false,
  } = options;
  check("length", length, Number.isInteger(length) && length >= 1 && length <= LENGTH_MAX);
  check("segmentMin", segmentMin, Number.isInteger(segmentMin) && segmentMin >= 1);
  check(
    "segmentMax",
    segmentMax,
    Number.isInteger(segmentMax) && segmentMax >= segmentMin,
  );
  check("shiftMin", shiftMin, shiftMin >= 0);
  check("shiftMax", shiftMax, shiftMax >= shiftMin);
  check("spreadMin", spreadMin, spreadMin >= 1);
  check("spreadMax", spreadMax, spreadMax >= spreadMin);
  check("slopeMin", slopeMin, slopeMin >= 0);
  check("slopeMax", slopeMax, slopeMax >= slopeMin);
  check("level", level, true);
  check("sigma", sigma, sigma > 0);
  if (noise !== "gaussian" && noise !== "t3") {
    throw new RangeError(`piecewise(): option "noise" must be "gaussian" or "t3", got "${noise}"`);
  }
  if (!stationary && kinds.length === 0) {
    throw new RangeError(`piecewise(): option "kinds" must name at least one kind, got []`);
  }
  for (const kind of kinds) {
    if (kind !== "mean" && kind !== "variance" && kind !== "trend") {
      throw new RangeError(`piecewise(): option "kinds" has an unknown kind "${kind}"`);
    }
  }

  return {
    length,
    kinds,
    noise,
    segmentMin,
    segmentMax,
    shiftMin,
    shiftMax,
    spreadMin,
    spreadMax,
    slopeMin,
    slopeMax,
    level,
    sigma,
    stationary,
  };
}

/** Generates a labelled piecewise-stationary series from `seed`. */
export function piecewise(seed: number | string, options: PiecewiseOptions): PiecewiseSeries {
  const {
    length,
    kinds,
    noise,
    segmentMin,
    segmentMax,
    shiftMin,
    shiftMax,
    spreadMin,
    spreadMax,
    slopeMin,
    slopeMax,
    level,
    sigma,
    stationary,
  } = resolve(options);

  const rng = new Prng(seed);
  const plan = rng.fork("plan");
  const draw = rng.fork("noise");
  const values = new Float64Array(length);
  const segments: PiecewiseSegment[] = [{
    start: 0,
    kind: "start",
    mean: level,
    slope: 0,
    sd: sigma,
  }];
  const changes: number[] = [];
  const span = (lo: number, hi: number) => lo + (hi - lo) * plan.next();
  const segmentLength = () => segmentMin + plan.int(segmentMax - segmentMin + 1);
  const unitT3 = Math.sqrt(1 / 3);

  let seg = segments[0]!;
  let next = stationary ? length : segmentLength();
  for (let i = 0; i < length; i++) {
    if (i === next) {
      // Begin a new segment unless too little would be left of the series for it.
      const end = seg.mean + seg.slope * (i - seg.start);
      const kind = kinds[plan.int(kinds.length)]!;
      const up = plan.next() < 0.5;
      let { slope, sd } = seg;
      let mean = end;
      if (kind === "mean") {
        mean = end + (up ? 1 : -1) * span(shiftMin, shiftMax) * sd;
      } else if (kind === "variance") {
        const factor = span(spreadMin, spreadMax);
        const wider = sd * factor <= sigma * SD_RANGE && (up || sd / factor < sigma / SD_RANGE);
        sd = wider ? sd * factor : sd / factor;
      } else {
        slope = slope === 0 ? (up ? 1 : -1) * span(slopeMin, slopeMax) * sd : 0;
      }
      seg = { start: i, kind, mean, slope, sd };
      segments.push(seg);
      changes.push(i);
      next = i + segmentLength();
      if (length - next < segmentMin) next = length;
    }
    const e = noise === "gaussian" ? draw.normal() : draw.studentT(3) * unitT3;
    values[i] = seg.mean + seg.slope * (i - seg.start) + seg.sd * e;
  }
  return { values, changes, segments };
}
