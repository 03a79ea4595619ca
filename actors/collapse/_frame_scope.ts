/**
 * What the collapse kernel reads from a state once per frame: its settings, the prior's constants
 * derived from them, the season's shape, and the records its samples share (the Growth record
 * growRuns reads, the season's forgetting factor kept while the sampling interval holds). Read
 * into one record so that each view of a sample (its season, its prior, the new regime, the
 * season's learning, the confirmation) takes what it needs from it, not from the state's array.
 */
import type { FrameConstants, Growth } from "./_grow.ts";
import {
  type CollapseState,
  H_ALPHA0,
  H_AR_MAX,
  H_CONFIRM,
  H_CONFIRM_SAMPLES,
  H_G0,
  H_GAP_FACTOR,
  H_GAP_MIN,
  H_HAZARD,
  H_KAPPA0,
  H_LEVEL_DRIFT,
  H_NOISE_KEEP,
  H_OUTLIER,
  H_SCALE_RATE,
  H_SEASON_M,
  H_SEASON_US,
  H_SEASON_WEEKEND,
  H_SLOPE_CARRY,
  H_SLOPE_DRIFT,
} from "./_state.ts";
import { seasonHarmonics, spreadFeatures } from "./_season.ts";

/** A frame's settings and constants, and what its samples share. */
export interface FrameScope {
  hazard: number;
  confirm: number;
  confirmSamples: number;
  gapMin: number;
  runsMax: number;
  kappa0: number;
  alpha0: number;
  scaleRate: number;
  gapFactor: number;
  /** 1 / the squared scale of the prior predictive, and its density's normaliser. */
  invPriorScale2: number;
  priorNorm: number;
  levelDrift: number;
  keepNoise: number;
  seasonUs: number;
  /** The season's coefficients (0: no season), its harmonics and whether it has a weekend. */
  seasonM: number;
  harmonics: number;
  weekend: boolean;
  /** The noise's variance season's coefficients (see `spreadFeatures`). */
  spreadM: number;
  arMax: number;
  slopeCarry: boolean;
  consts: FrameConstants;
  growth: Growth;
  /**
   * The season's forgetting factor depends on the sampling interval only, which is constant on a
   * regular feed: computed when the interval moves (`forgetInterval`), not per sample.
   */
  forgetInterval: number;
  forget: number;
}

/** Reads `state`'s settings for one frame. */
export function frameScope(state: CollapseState): FrameScope {
  const data = state.data;
  const eps = data[H_OUTLIER]!;
  const kappa0 = data[H_KAPPA0]!;
  const alpha0 = data[H_ALPHA0]!;
  const priorSpread = 2 * (kappa0 + 1) / kappa0;
  const priorScale = Math.sqrt(alpha0 * priorSpread);
  const seasonM = data[H_SEASON_M]!;
  const weekend = data[H_SEASON_WEEKEND] === 1;
  const harmonics = seasonHarmonics(seasonM, weekend);
  return {
    hazard: data[H_HAZARD]!,
    confirm: data[H_CONFIRM]!,
    confirmSamples: data[H_CONFIRM_SAMPLES]!,
    gapMin: data[H_GAP_MIN]!,
    runsMax: state.runsMax,
    kappa0,
    alpha0,
    scaleRate: data[H_SCALE_RATE]!,
    gapFactor: data[H_GAP_FACTOR]!,
    invPriorScale2: 1 / (priorScale * priorScale),
    priorNorm: priorScale / data[H_G0]!,
    levelDrift: data[H_LEVEL_DRIFT]!,
    keepNoise: data[H_NOISE_KEEP]!,
    seasonUs: data[H_SEASON_US]!,
    seasonM,
    harmonics,
    weekend,
    spreadM: spreadFeatures(harmonics, weekend),
    arMax: data[H_AR_MAX]!,
    slopeCarry: data[H_SLOPE_CARRY] === 1,
    consts: { keep: 1 - eps, eps, alpha0 },
    growth: {
      steps: 1,
      x: 0,
      invPrior: 1,
      beta0: 0,
      varFloor: 0,
      grow: 1,
      drift: 0,
      slopeDrift: data[H_SLOPE_DRIFT]!,
      keepNoise: 1,
      ha: 1,
      hb: 0,
      g: 1,
    },
    forgetInterval: NaN,
    forget: 1,
  };
}
