/**
 * The anomaly kernel's walk test: a channel whose level wanders like a random walk is scored
 * without its level views (see the kernel). The test: the level's variance about its long average
 * (walkVar, an exponential average at WALK_ALPHA), scaled to one step of a walk
 * (walkVar * 2 * WALK_ALPHA), over the increments' size, above the configured threshold times the
 * young share (walkYoungShare). The increments' size is the smaller of their recent and slow mean
 * squares: the slow one has the level variance's span, so a switch to wilder increments does not
 * outrun the variance it is compared with. The ratio is noisy (for a true walk it averages 1 but
 * often dips under the threshold for a while), so a channel judged a walk stays one until the
 * ratio falls below WALK_LEAVE of the threshold.
 *
 * Computed with the portable exp and log (actors/math), so every runtime gives the same bits.
 */
import { expFast, logFast } from "../math/mod.ts";

/**
 * Weight of the latest value in the walk test's long average and variance, and of the latest
 * increment in its slow mean square (span 1000).
 */
export const WALK_ALPHA = 0.001;
/** A channel judged a walk stays one until its ratio falls below this share of the threshold. */
export const WALK_LEAVE = 0.5;
/** log(1 - WALK_ALPHA): the decay of the young share's shortfall per update. */
const LOG_WALK_KEEP = logFast(1 - WALK_ALPHA);
/** From this age on (1 - WALK_ALPHA)^n is under 2^-53: the young share is taken as 1. */
const WALK_YOUNG_MAX = 37_000;

/**
 * The share of a walk's settled level variance that the walk test's variance holds at `seen`
 * samples: an average started at 0 and updated n = seen - 1 times holds (1 - q^n)(1 - q^(n+1)) of
 * it, q = 1 - WALK_ALPHA. The walk is judged against that share, so a young walk is not read as
 * stationary and its new highs scored.
 */
export function walkYoungShare(seen: number): number {
  if (seen >= WALK_YOUNG_MAX) return 1;
  const keep = expFast((seen - 1) * LOG_WALK_KEEP);
  return (1 - keep) * (1 - keep * (1 - WALK_ALPHA));
}
