/**
 * The warm-up marker of an input: a feed message whose id starts with `warmup:` is a series' past
 * (a history read), given to the detectors to learn from before its live samples. Its findings
 * and per-sample columns are not published: the past was not watched, a page about it would wake
 * someone for what is over, and its scores would count as samples watched now (the page budget's
 * census) and as live scores (`troupe_anomaly_score`). The marker is in the id, which the feed
 * batch passes to each channel's frame (`<batch id>/<channel>`) and the journal keeps bit for bit
 * with the frame, so a replay and a recovery apply the same inputs the same way. Any feed may
 * mark its own backfill so.
 */

/** The prefix of a warm-up input's message id. */
export const WARMUP_ID_PREFIX = "warmup:";

/** The id `id` marked as a warm-up input's. */
export function warmupId(id: string): string {
  return id.startsWith(WARMUP_ID_PREFIX) ? id : WARMUP_ID_PREFIX + id;
}

/** Whether a message of id `id` is a warm-up input (learned from, its findings not published). */
export function isWarmupId(id: string): boolean {
  return id.startsWith(WARMUP_ID_PREFIX);
}
