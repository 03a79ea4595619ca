/**
 * How a feed sent to NATS is delivered: acknowledged by JetStream when a stream keeps its
 * subjects (what is not acknowledged is sent again, the frame id as Nats-Msg-Id), else at most
 * once on core NATS.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { JetStreamPublisher, type NatsBus } from "../../actors/runtime/mod.ts";

/** Milliseconds past the end of the run that unacknowledged frames are retried for. */
export const ACK_GRACE_MS = 30_000;

/** The JetStream stream that keeps `subject`, if JetStream is on and one does. */
export async function feedStream(bus: NatsBus, subject: string): Promise<string | undefined> {
  try {
    const jsm = await jetstreamManager(bus.nc, { timeout: 2_000 });
    return await jsm.streams.find(subject);
  } catch {
    return undefined;
  }
}

/** Options of `openFeedPublisher`. */
export interface FeedPublisherOptions {
  /** Wall-clock milliseconds the run ends at; what is not acknowledged gets ACK_GRACE_MS more. */
  deadlineMs: number;
  signal: AbortSignal;
  /** Told why, the first time a frame is sent again. */
  onRetry?: (why: string) => void;
}

/**
 * The stream that keeps `subject` and a JetStream publisher on it, or neither (core NATS: at
 * most once).
 */
export async function openFeedPublisher(
  bus: NatsBus,
  subject: string,
  options: FeedPublisherOptions,
): Promise<{ stream: string | undefined; publisher: JetStreamPublisher | undefined }> {
  const stream = await feedStream(bus, subject);
  if (stream === undefined) return { stream, publisher: undefined };
  let retryTold = false;
  const publisher = new JetStreamPublisher(bus.nc, {
    deadlineMs: options.deadlineMs + ACK_GRACE_MS,
    signal: options.signal,
    onRetry: (why) => {
      if (retryTold) return;
      retryTold = true;
      options.onRetry?.(why);
    },
  });
  return { stream, publisher };
}
