/**
 * Labelled piecewise-stationary series for scoring change-point detectors: segments of random
 * length, each beginning with a mean shift, a variance shift or a trend change, under Gaussian or
 * Student-t(3) noise, all drawn from one seed. The true change indices come with the values, so a
 * benchmark or a test knows exactly where every regime began. Sizes are in units of the noise's
 * standard deviation at that point (Student-t(3) noise is scaled to unit variance, so "a 2 sigma
 * shift" means the same under both noises).
 */
import { Prng } from "../prng/mod.ts";

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
  /**
   * Variance shifts multiply the standard deviation by a factor uniform in [spreadMin, spreadMax],
   * or divide it. Default 2 and 4.
   */
  spreadMin?: number;
  spreadMax?: number;
  /**
   * A trend change starts a slope uniform in [slopeMin, slopeMax] sigmas per sample (either sign),
   * or ends one. Default 0.02 and 0.1.
   */
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

/** The options' defaults (all but `length`). */
const DEFAULTS: Required<Omit<PiecewiseOptions, "length">> = {
  kinds: ["mean", "variance"],
  noise: "gaussian",
  segmentMin: 100,
  segmentMax: 400,
  shiftMin: 2,
  shiftMax: 5,
  spreadMin: 2,
  spreadMax: 4,
  slopeMin: 0.02,
  slopeMax: 0.1,
  level: 0,
  sigma: 1,
  stationary: false,
};

/** The options with their defaults, checked. */
function resolve(options: PiecewiseOptions): Required<PiecewiseOptions> {
  const o: Required<PiecewiseOptions> = { ...DEFAULTS, ...withoutUndefined(options) };
  check("length", o.length, Number.isInteger(o.length) && o.length >= 1 && o.length <= LENGTH_MAX);
  check("segmentMin", o.segmentMin, Number.isInteger(o.segmentMin) && o.segmentMin >= 1);
  check("segmentMax", o.segmentMax, Number.isInteger(o.segmentMax) && o.segmentMax >= o.segmentMin);
  check("shiftMin", o.shiftMin, o.shiftMin >= 0);
  check("shiftMax", o.shiftMax, o.shiftMax >= o.shiftMin);
  check("spreadMin", o.spreadMin, o.spreadMin >= 1);
  check("spreadMax", o.spreadMax, o.spreadMax >= o.spreadMin);
  check("slopeMin", o.slopeMin, o.slopeMin >= 0);
  check("slopeMax", o.slopeMax, o.slopeMax >= o.slopeMin);
  check("level", o.level, true);
  check("sigma", o.sigma, o.sigma > 0);
  if (o.noise !== "gaussian" && o.noise !== "t3") {
    throw new RangeError(
      `piecewise(): option "noise" must be "gaussian" or "t3", got "${o.noise}"`,
    );
  }
  if (!o.stationary && o.kinds.length === 0) {
    throw new RangeError(`piecewise(): option "kinds" must name at least one kind, got []`);
  }
  for (const kind of o.kinds) {
    if (kind !== "mean" && kind !== "variance" && kind !== "trend") {
      throw new RangeError(`piecewise(): option "kinds" has an unknown kind "${kind}"`);
    }
  }
  return o;
}

/** The options that are set (an option given as undefined takes its default). */
function withoutUndefined(options: PiecewiseOptions): PiecewiseOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as unknown as PiecewiseOptions;
}

/** Generates a labelled piecewise-stationary series from `seed`. */
export function piecewise(seed: number | string, options: PiecewiseOptions): PiecewiseSeries {
  const o = resolve(options);
  const { length, segmentMin, segmentMax, level, sigma } = o;
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
  const segmentLength = () => segmentMin + plan.int(segmentMax - segmentMin + 1);
  const unitT3 = Math.sqrt(1 / 3);

  let seg = segments[0]!;
  let next = o.stationary ? length : segmentLength();
  for (let i = 0; i < length; i++) {
    if (i === next) {
      seg = nextSegment(seg, i, plan, o);
      segments.push(seg);
      changes.push(i);
      next = i + segmentLength();
      // No new segment where too little would be left of the series for it.
      if (length - next < segmentMin) next = length;
    }
    const e = o.noise === "gaussian" ? draw.normal() : draw.studentT(3) * unitT3;
    values[i] = seg.mean + seg.slope * (i - seg.start) + seg.sd * e;
  }
  return { values, changes, segments };
}

/**
 * The segment that begins at `i` after `seg`: its kind of change and its size, drawn from `plan`.
 */
function nextSegment(
  seg: PiecewiseSegment,
  i: number,
  plan: Prng,
  o: Required<PiecewiseOptions>,
): PiecewiseSegment {
  const span = (lo: number, hi: number) => lo + (hi - lo) * plan.next();
  const end = seg.mean + seg.slope * (i - seg.start);
  const kind = o.kinds[plan.int(o.kinds.length)]!;
  const up = plan.next() < 0.5;
  let { slope, sd } = seg;
  let mean = end;
  if (kind === "mean") {
    mean = end + (up ? 1 : -1) * span(o.shiftMin, o.shiftMax) * sd;
  } else if (kind === "variance") {
    const factor = span(o.spreadMin, o.spreadMax);
    const wider = sd * factor <= o.sigma * SD_RANGE && (up || sd / factor < o.sigma / SD_RANGE);
    sd = wider ? sd * factor : sd / factor;
  } else {
    slope = slope === 0 ? (up ? 1 : -1) * span(o.slopeMin, o.slopeMax) * sd : 0;
  }
  return { start: i, kind, mean, slope, sd };
}
