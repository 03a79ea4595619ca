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

/**
 * The one scope every frame's step fills (one kernel runs at a time, and nothing keeps the scope
 * past its frame): a fleet's host steps a channel's one-sample frame at a time, where a scope made
 * per frame would be three objects and a heap box for each of their numbers.
 */
const SCOPE: FrameScope = {
  hazard: 0,
  confirm: 0,
  confirmSamples: 0,
  gapMin: 0,
  runsMax: 0,
  kappa0: 0,
  alpha0: 0,
  scaleRate: 0,
  gapFactor: 0,
  invPriorScale2: 0,
  priorNorm: 0,
  levelDrift: 0,
  keepNoise: 0,
  seasonUs: 0,
  seasonM: 0,
  harmonics: 0,
  weekend: false,
  spreadM: 0,
  arMax: 0,
  slopeCarry: false,
  consts: { keep: 0, eps: 0, alpha0: 0 },
  growth: {
    steps: 1,
    x: 0,
    invPrior: 1,
    beta0: 0,
    varFloor: 0,
    grow: 1,
    drift: 0,
    slopeDrift: 0,
    keepNoise: 1,
    ha: 1,
    hb: 0,
    g: 1,
  },
  forgetInterval: NaN,
  forget: 1,
};

/**
 * Reads `state`'s settings for one frame into the shared scope, every field set as a scope made
 * afresh would have it; good until the next frame's.
 */
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
  const f = SCOPE;
  f.hazard = data[H_HAZARD]!;
  f.confirm = data[H_CONFIRM]!;
  f.confirmSamples = data[H_CONFIRM_SAMPLES]!;
  f.gapMin = data[H_GAP_MIN]!;
  f.runsMax = state.runsMax;
  f.kappa0 = kappa0;
  f.alpha0 = alpha0;
  f.scaleRate = data[H_SCALE_RATE]!;
  f.gapFactor = data[H_GAP_FACTOR]!;
  f.invPriorScale2 = 1 / (priorScale * priorScale);
  f.priorNorm = priorScale / data[H_G0]!;
  f.levelDrift = data[H_LEVEL_DRIFT]!;
  f.keepNoise = data[H_NOISE_KEEP]!;
  f.seasonUs = data[H_SEASON_US]!;
  f.seasonM = seasonM;
  f.harmonics = harmonics;
  f.weekend = weekend;
  f.spreadM = spreadFeatures(harmonics, weekend);
  f.arMax = data[H_AR_MAX]!;
  f.slopeCarry = data[H_SLOPE_CARRY] === 1;
  const consts = f.consts;
  consts.keep = 1 - eps;
  consts.eps = eps;
  consts.alpha0 = alpha0;
  const growth = f.growth;
  growth.steps = 1;
  growth.x = 0;
  growth.invPrior = 1;
  growth.beta0 = 0;
  growth.varFloor = 0;
  growth.grow = 1;
  growth.drift = 0;
  growth.slopeDrift = data[H_SLOPE_DRIFT]!;
  growth.keepNoise = 1;
  growth.ha = 1;
  growth.hb = 0;
  growth.g = 1;
  f.forgetInterval = NaN;
  f.forget = 1;
  return f;
}
