/**
 * Makes a stream follower's consumer from several placements tried at once. In a cluster,
 * nats-server places a consumer of one replica on a stream peer it picks at random, and counts a
 * peer lost moments ago (killed, not shut down) among them for long after: a consumer placed there
 * is never made, and its create waits out its whole timeout. Made one at a time, a third of the
 * consumers made after a node's loss each cost that timeout, several in a row now and then; made
 * several at once, the first placed well is kept. Private to the stream follower
 * (stream_follower.ts).
 */
import type { ConsumerInfo } from "@nats-io/jetstream";

/** Options of `placeConsumer`. */
export interface PlaceConsumerOptions {
  /** Consumers made at once (1: a single create). */
  count: number;
  /** A node a consumer is kept off when another is placed elsewhere (the meta leader's). */
  avoid: string | undefined;
  /** Deletes a consumer that was made and is not kept; resolves once it is done (or failed). */
  drop(name: string): Promise<void>;
}

/** The consumer kept, and when the others are dealt with. */
export interface PlacedConsumer {
  info: ConsumerInfo;
  /** Resolves once every other create has ended and what it made has been dropped. */
  rest: Promise<void>;
}

/**
 * Calls `make` `count` times at once and resolves with the first consumer placed off `avoid`, or,
 * when every create has ended without one, with a consumer on `avoid`; every other consumer made,
 * early or late, is dropped. Rejects with the first failure when no create made one.
 */
export function placeConsumer(
  make: () => Promise<ConsumerInfo>,
  options: PlaceConsumerOptions,
): Promise<PlacedConsumer> {
  const { count, avoid, drop } = options;
  return new Promise((resolve, reject) => {
    const creates: Promise<void>[] = [];
    const rest = () => Promise.all(creates).then(() => {});
    let kept: ConsumerInfo | undefined;
    /** A consumer on `avoid`, kept if no better one comes. */
    let fallback: ConsumerInfo | undefined;
    let failure: unknown;
    let pending = count;
    const made = (info: ConsumerInfo): Promise<void> | undefined => {
      if (kept !== undefined) return drop(info.name);
      if (avoid !== undefined && info.cluster?.leader === avoid) {
        if (fallback !== undefined) return drop(info.name);
        fallback = info;
        return undefined;
      }
      kept = info;
      resolve({ info, rest: rest() });
      if (fallback === undefined) return undefined;
      const name = fallback.name;
      fallback = undefined;
      return drop(name);
    };
    const ended = () => {
      if (--pending > 0 || kept !== undefined) return;
      if (fallback === undefined) return reject(failure);
      kept = fallback;
      resolve({ info: fallback, rest: rest() });
    };
    for (let i = 0; i < count; i++) {
      creates.push(
        Promise.resolve().then(make).then(made, (err) => void (failure ??= err)).finally(ended),
      );
    }
  });
}
