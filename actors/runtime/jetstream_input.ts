/**
 * Feed input from JetStream: frames published on `troupe.feed.>` are kept by the stream
 * `TROUPE_FEED`, and a host reads them with an ordered consumer that starts just past the highest
 * stream sequence its journal holds. The journal is the acknowledgement: nothing the stream
 * stored is lost while the host is down, and after a crash the host resumes exactly where its
 * durable journal ends (instances ignore what they already applied, by stream sequence).
 */
import {
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { SUBJECT_ROOT } from "../../protocol/mod.ts";
import type { InputSource } from "./input_source.ts";

/** The stream that keeps feed frames. */
export const FEED_STREAM = "TROUPE_FEED";

/** Options of the feed stream. */
export interface FeedStreamOptions {
  stream?: string;
  /** How long frames are kept: 1 hour. */
  maxAgeMs?: number;
  /** How many bytes are kept at most: 1 GiB. */
  maxBytes?: number;
}

/** Creates the feed stream if it does not exist. */
export async function ensureFeedStream(nc: NatsConnection, options: FeedStreamOptions = {}) {
  const jsm = await jetstreamManager(nc);
  const name = options.stream ?? FEED_STREAM;
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add({
      name,
      subjects: [`${SUBJECT_ROOT}.feed.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: (options.maxAgeMs ?? 3_600_000) * 1_000_000,
      max_bytes: options.maxBytes ?? 1 << 30,
    });
  }
}

/** An InputSource reading the feed stream with an ordered consumer. */
export function jetStreamInput(nc: NatsConnection, options: FeedStreamOptions = {}): InputSource {
  let stopped = false;
  let close: (() => Promise<unknown>) | undefined;
  return {
    async start(deliver, resumeAfter) {
      await ensureFeedStream(nc, options);
      const js = jetstream(nc);
      const consumer = await js.consumers.get(
        options.stream ?? FEED_STREAM,
        resumeAfter > 0
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: resumeAfter + 1 }
          : { deliver_policy: DeliverPolicy.All },
      );
      if (stopped) return;
      const messages = await consumer.consume({
        max_messages: 1000,
        callback: (m) => {
          deliver(
            { subject: m.subject, data: m.data, headers: undefined, reply: undefined },
            m.seq,
          );
        },
      });
      close = () => messages.close();
    },
    async stop() {
      stopped = true;
      await close?.();
    },
    async firstPosition() {
      await ensureFeedStream(nc, options);
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(options.stream ?? FEED_STREAM);
      // An empty stream's first_seq is where its next message will go.
      return info.state.first_seq;
    },
  };
}
