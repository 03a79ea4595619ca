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
import { WEEKEND_FEATURES } from "./_weekend.ts";

/**
 * Of the weekend's features (_weekend.ts), the noise's variance season has the first, the weekend's
 * smooth level: a weekend has its own noise as it has its own level. Service noise grows with the
 * load, so a weekend at two thirds of a weekday's load is quieter than a weekday night, and with
 * the daily features alone the regimes saw each weekend's quieter noise as a change in the noise on
 * Friday night and the louder one back as another on Sunday night or Monday; with the first
 * feature the metrics feed's false changes fell, most of all around Friday midnight. All five of
 * the weekend's features gave more false changes than one, as a log-variance learnt from two days
 * a week cannot hold five coefficients (figures: docs/methods/collapse.md).
 */
const SPREAD_WEEKEND_FEATURES = 1;

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
  /** The noise's variance season's coefficients (see SPREAD_WEEKEND_FEATURES). */
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
  const harmonics = (seasonM - 1 - (weekend ? WEEKEND_FEATURES : 0)) / 2;
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
    spreadM: 1 + 2 * harmonics + (weekend ? SPREAD_WEEKEND_FEATURES : 0),
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
