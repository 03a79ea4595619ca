/**
 * What an injection sent and how it was delivered, as one object: the feed, the counts and rates
 * of `inject`'s result, and, when a JetStream stream kept the subjects, what it acknowledged.
 * `troupe inject --json` prints it.
 */
import type { JetStreamPublisher } from "../../actors/runtime/mod.ts";
import type { Feed } from "./feed.ts";
import type { InjectResult } from "./inject.ts";

/** Where and how an injection's frames went. */
export interface InjectDelivery {
  feed: Feed;
  /** The subjects' pattern (`troupe.feed.<feed>.*`). */
  subjects: string;
  /** The stream that keeps them, when one does; undefined: core NATS, at most once. */
  stream: string | undefined;
  /** The publisher that had them acknowledged, with the stream. */
  publisher: JetStreamPublisher | undefined;
  /** Where the feed's labels were written, when they were. */
  labels?: string | undefined;
}

/** The report of an injection (`troupe inject --json`). */
export function injectReport(result: InjectResult, sent: InjectDelivery): Record<string, unknown> {
  const { feed, subjects, stream, publisher } = sent;
  return {
    feed: feed.name,
    run: result.run,
    subjects,
    channels: feed.channels.length,
    samples: result.samples,
    frames: result.frames,
    bytes: result.bytes,
    elapsed_s: result.elapsedS,
    asked_per_s: result.askedRate,
    achieved_per_s: result.achievedRate,
    achieved_over_asked: result.achievedRate / result.askedRate,
    delivery: publisher === undefined ? "at-most-once" : "acknowledged",
    ...(publisher === undefined ? {} : {
      stream,
      acked_frames: publisher.counts.acked,
      acked_samples: publisher.counts.ackedWeight,
      retries: publisher.counts.retries,
      duplicate_acks: publisher.counts.duplicates,
    }),
    forgiven_s: result.forgivenS,
    stopped: result.stopped,
    ...(sent.labels === undefined ? {} : { labels: sent.labels }),
  };
}
