/**
 * What `troupe inject` says at the end: what it sent and how it was delivered, as a line a person
 * reads or one JSON object (`--json`).
 */
import type { JetStreamPublisher } from "../actors/runtime/mod.ts";
import type { Feed, InjectResult } from "../sim/feeds/mod.ts";
import type { InjectOptions } from "./inject_options.ts";

/** What a run sent and how, for its result. */
export interface Sent {
  feed: Feed;
  subjects: string;
  stream: string | undefined;
  publisher: JetStreamPublisher | undefined;
  signalName: string | undefined;
}

/** The result as one JSON object (`--json`). */
export function resultJson(o: InjectOptions, result: InjectResult, sent: Sent): string {
  const { feed, subjects, stream, publisher } = sent;
  return JSON.stringify({
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
    ...(o.labels === undefined ? {} : { labels: o.labels }),
  });
}

/** The result as the line a person reads. */
export function resultLine(o: InjectOptions, result: InjectResult, sent: Sent): string {
  const { publisher, signalName } = sent;
  const ratio = result.achievedRate / result.askedRate;
  const why = result.stopped === "aborted"
    ? `stopped by ${signalName ?? "a signal"}`
    : result.stopped === "exhausted"
    ? "end of the file"
    : "duration reached";
  return `troupe inject: ${why}: ${result.samples} samples in ${result.frames} frames ` +
    `(${(result.bytes / 1e6).toFixed(1)} MB) over ${result.elapsedS.toFixed(2)} s: ` +
    `${Math.round(result.achievedRate)} samples/s achieved, ${result.askedRate} asked ` +
    `(${(ratio * 100).toFixed(1)}%)` +
    (result.forgivenS > 0
      ? `; fell behind by ${result.forgivenS.toFixed(2)} s (NATS or this machine too slow)`
      : "") +
    (o.labels === undefined ? "" : `; labels in ${o.labels}`) +
    (publisher === undefined
      ? "; sent at most once (core NATS)"
      : `; ${publisher.counts.ackedWeight} samples in ${publisher.counts.acked} frames ` +
        `acknowledged by JetStream` +
        (publisher.counts.retries ? ` (${publisher.counts.retries} sends repeated)` : "")) +
    `; run ${result.run}`;
}
