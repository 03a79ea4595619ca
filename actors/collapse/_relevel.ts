/**
 * When the collapse kernel makes the season's level unknown again (seasonRelevel): at the end of
 * the season's warm-up, at a change the regimes confirm during it, and after a confirmed change
 * once its regime has lasted min_gap_samples (RELEVEL_AFTER_GAP; a change confirmed that late is
 * relevelled at once, by confirmRegime in kernel.ts).
 */
import type { Running } from "./_running.ts";
import { seasonRelevel } from "./_season.ts";
import {
  type CollapseState,
  H_RELEVEL_AT,
  H_SEASON_FROM,
  H_SEASON_US,
  H_SEASON_WARMING,
} from "./_state.ts";

/*
 * RELEVEL_AFTER_GAP. The season's level is made unknown again (seasonRelevel) when a new regime
 * has lasted min_gap_samples: at its confirmation if it began that long before, else once it
 * has (H_RELEVEL_AT holds when; also for a regime the warm-up confirms). A burst of a few samples
 * (a spike, confirmed at its second or third sample) otherwise became the season's level; the
 * samples after it were clipped at 3 noise scales, so the level came back over hours and the
 * harmonics took the difference as daily shape, a swing the channel does not have, read as false
 * changes for days. With the relevel after the gap the metrics feed's false changes fell and its
 * labelled changes were found as before; widening each sample's variance by the season's own
 * uncertainty (a Kalman filter's predictive) was tried with it and brought no clear gain. The
 * runs' figures are on docs/methods/collapse.md ("How settings were chosen").
 */

/**
 * A change the regimes confirm in the season's warm-up: none is reported (a swing cannot be told
 * from a change before a period has been seen), but the season's level is made unknown again, as
 * after a confirmed change, so that it moves to the new regime instead of the harmonics taking the
 * shift as daily shape. Without it, a level shift in a channel's first day (service memory moves by
 * 30 noise scales or more, over a daily swing of a few) was learned as a daily swing, unlearned
 * over a week or more (the season's residuals are clipped at 3 noise scales), and read as a change
 * every few hours meanwhile (the metrics feed's memory channels' false changes fell by half and
 * more with it: docs/methods/collapse.md). A regime under min_gap_samples old is relevelled to
 * once it has lasted that long (RELEVEL_AFTER_GAP).
 */
export function warmUpRelevel(
  state: CollapseState,
  r: Running,
  cand: number,
  j: number,
  gapMin: number,
): void {
  r.regime = state.start[cand]!;
  if (j - r.regime >= gapMin) seasonRelevel(state.season);
  state.data[H_RELEVEL_AT] = j - r.regime >= gapMin ? 0 : r.regime + gapMin;
}

/**
 * The season's warm-up, at a sample at time t: until one period has been seen, a swing cannot be
 * told from a change, so no change is counted (the regimes' origin follows the samples); when it
 * ends the regimes start afresh, on values the season now explains. The residuals'
 * autocorrelation learned meanwhile is kept: forgotten, the first hours after the warm-up took
 * correlated noise as independent and read it as changes (fewer false changes on the metrics feed
 * with it kept: docs/methods/collapse.md). Returns whether the sample is still in the warm-up.
 */
export function warmUp(state: CollapseState, r: Running, t: number): boolean {
  const data = state.data;
  const from = data[H_SEASON_FROM]!;
  if (from !== from) data[H_SEASON_FROM] = t;
  else if (t - from >= data[H_SEASON_US]!) {
    data[H_SEASON_WARMING] = 0;
    data[H_RELEVEL_AT] = 0;
    r.runs = 0;
    seasonRelevel(state.season);
    seasonRelevel(state.spreadSeason);
  }
  return data[H_SEASON_WARMING] === 1;
}

/**
 * At sample `j`, no change confirmed: a regime that began under min_gap_samples before it was
 * confirmed has the season relevelled now that it has lasted that long (or at the first valid
 * sample after; RELEVEL_AFTER_GAP).
 */
export function relevelAfterGap(state: CollapseState, j: number, warming: boolean): void {
  const { data } = state;
  if (data[H_RELEVEL_AT]! > 0 && j >= data[H_RELEVEL_AT]!) {
    seasonRelevel(state.season);
    if (!warming) seasonRelevel(state.spreadSeason);
    data[H_RELEVEL_AT] = 0;
  }
}
