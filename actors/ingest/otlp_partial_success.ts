/**
 * What an OTLP request's answer says when the receiver kept less than it was sent: OTLP's partial
 * success, the data points not kept (refused, left out by `match`, of no kind troupe takes) and a
 * message naming why.
 */
import type { OtlpPartialSuccess } from "../../protocol/prometheus/mod.ts";
import type { SampleOutcome } from "./series_samples.ts";

/**
 * The partial success of a request whose samples became `outcome`; undefined when all were kept.
 */
export function otlpPartialSuccess(
  outcome: SampleOutcome,
  ignored: number,
): OtlpPartialSuccess | undefined {
  const rejected = outcome.refused + outcome.unmatched + ignored;
  if (rejected === 0) return undefined;
  const why = [...outcome.reasons];
  if (outcome.reasonCount > outcome.reasons.length) {
    why.push(`and ${outcome.reasonCount - outcome.reasons.length} more refused`);
  }
  if (outcome.unmatched > 0) {
    why.push(
      `${outcome.unmatched} data points matched none of the receiver's match selectors ` +
        "(setting match)",
    );
  }
  if (ignored > 0) why.push(`${ignored} data points of metrics of no kind troupe takes`);
  return {
    rejectedDataPoints: rejected,
    errorMessage: `${rejected} of the request's data points not kept ` +
      `(${outcome.journaled} samples journaled): ${why.join("; ")}`,
  };
}
