/**
 * Where the receiver journals a request's batches: the feed stream, a batch acknowledged when
 * JetStream has stored it (a request with `Nats-Msg-Id`, so a batch sent again, the sender's
 * retry of a request whose answer was lost, is stored once within the stream's duplicate
 * window); or, on the in-process bus of a lone `troupe up` without nats-server, published and
 * taken as done (nothing there outlives the process anyway, said in the docs).
 */
import type { Bus } from "../../protocol/mod.ts";
import { streamAckOf } from "../runtime/transport/mod.ts";

/** Journals one message; resolves once it is durable (or as durable as the bus makes it). */
export type FeedJournal = (subject: string, data: Uint8Array, msgId: string) => Promise<void>;

/** Options of a feed journal. */
export interface FeedJournalOptions {
  /** Whether the bus has the feed stream (JetStream) to acknowledge. */
  durable: boolean;
  /** Milliseconds to wait for the stream's acknowledgement. */
  ackTimeoutMs: number;
}

/** Journals on `bus` as `options` say. */
export function feedJournal(bus: Bus, options: FeedJournalOptions): FeedJournal {
  if (!options.durable) {
    return (subject, data) => {
      bus.publish(subject, data);
      return Promise.resolve();
    };
  }
  return async (subject, data, msgId) => {
    const answer = await bus.request(subject, data, {
      timeout: options.ackTimeoutMs,
      headers: { "Nats-Msg-Id": msgId },
    });
    streamAckOf(answer.data);
  };
}
