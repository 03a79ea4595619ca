/**
 * The stream gateway subscriptions that bring a watcher the findings of some kinds, or the
 * incidents they make: `troupe watch`'s, for whoever follows the same stream from code. Findings
 * of the declared kinds come on subjects that end in their channel, which the gateway filters by
 * channel itself; the others do not.
 */
import { incidentSubject } from "../../protocol/mod.ts";
import type { StreamSubscription } from "../stream/mod.ts";
import { type FindingKindName, findingSourcePatterns, isChannelFindingKind } from "./finding.ts";

/** What a watcher follows. */
export interface FindingSubscriptionsOptions {
  /** The findings themselves, not the incidents they make. */
  findings: boolean;
  kinds: readonly FindingKindName[];
  /** Only the findings on channels this glob matches (the gateway filters them). */
  channel: string | undefined;
}

/**
 * The subscriptions for `o`: the incidents of its channel kinds; or one subscription for the
 * channel kinds' findings (filtered by the gateway) and one for the rest.
 */
export function findingSubscriptions(o: FindingSubscriptionsOptions): StreamSubscription[] {
  const subs: StreamSubscription[] = [];
  if (!o.findings) {
    const kinds = o.kinds.filter(isChannelFindingKind);
    return kinds.length ? [{ subjects: kinds.map((k) => incidentSubject(k)) }] : [];
  }
  const byChannel = findingSourcePatterns(o.kinds.filter(isChannelFindingKind));
  const others = findingSourcePatterns(o.kinds.filter((k) => !isChannelFindingKind(k)));
  if (byChannel.length) {
    subs.push(o.channel ? { subjects: byChannel, channels: [o.channel] } : { subjects: byChannel });
  }
  if (others.length) subs.push({ subjects: others });
  return subs;
}
