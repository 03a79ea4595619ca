/**
 * A request that gathers every answer, not only the first: what `troupe ctl` sends when a message
 * is for a whole kind, which every host of a cluster and every thread of a threaded host applies
 * and answers with its own share. Built on the Bus's publish and subscribe, so it runs unchanged
 * on NATS and in process: subscribe a fresh inbox, publish with it as the reply subject, and keep
 * what arrives until the answers stop (a quiet gap after the last one) or the timeout.
 */
import {
  type Bus,
  type BusHeaders,
  type BusMessage,
  BusRequestError,
} from "../../../protocol/mod.ts";

/**
 * The least quiet gap after the last answer before the gathering ends. The answers of one
 * request leave their hosts within the same round trip, each after its own apply; on a loopback
 * or LAN a round trip is well under a millisecond, but a host's event loop may stand still for
 * far longer (a GC pause, a snapshot write, a partition recovering) on a loaded machine: 250 ms
 * covers those and is still no wait a person at a terminal notices.
 */
export const ANSWERS_QUIET_MS_MIN = 250;

/**
 * The quiet gap in round trips of the first answer: a peer whose answer took as long as the first
 * (its apply, its event loop) still lands inside it when the cluster is slower than the floor.
 */
export const ANSWERS_QUIET_ROUND_TRIPS = 4;

/** Options of `requestAll`. */
export interface RequestAllOptions {
  /** Milliseconds to wait in all; with no answer by then, the request fails. */
  timeout: number;
  /** Headers of the request. */
  headers?: BusHeaders;
  /** Ends the gathering at once with the first answer for which this is true (and those before). */
  until?: (answer: BusMessage) => boolean;
  /**
   * Whether the answers so far may end the gathering at the quiet gap (always, when not given);
   * when not, it goes on until an answer `until` accepts, or the timeout (ending with them).
   */
  settled?: (answers: readonly BusMessage[]) => boolean;
}

/**
 * Publishes `data` on `subject` with a reply inbox and resolves with every answer, in the order
 * they came, once none has arrived for the quiet gap after the last, or at `timeout`, or at once
 * with an answer `options.until` accepts. Rejects
 * with a BusRequestError when no one answered: none in time, or (NATS) no one listening.
 */
export function requestAll(
  bus: Bus,
  subject: string,
  data: Uint8Array,
  options: RequestAllOptions,
): Promise<BusMessage[]> {
  const inbox = `_INBOX.all.${crypto.randomUUID().replaceAll("-", "")}`;
  const answers: BusMessage[] = [];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    let quiet: ReturnType<typeof setTimeout> | undefined;
    let gap: number | undefined; // set by the first answer
    let done = false;
    const finish = (err?: BusRequestError) => {
      done = true;
      clearTimeout(deadline);
      clearTimeout(quiet);
      sub.unsubscribe();
      if (err) reject(err);
      else resolve(answers);
    };
    const deadline = setTimeout(() => {
      if (answers.length > 0) return finish();
      finish(
        new BusRequestError(
          subject,
          `Request on "${subject}" timed out after ${options.timeout} ms`,
        ),
      );
    }, options.timeout);
    const sub = bus.subscribe(inbox, (msg) => {
      if (done) return; // already on its way out of a finished gathering
      // NATS answers a request no one listens to with an empty status message (503).
      if (msg.data.length === 0) {
        if (answers.length === 0) {
          finish(
            new BusRequestError(subject, `No responders on "${subject}"`, { noResponders: true }),
          );
        }
        return;
      }
      answers.push(msg);
      if (options.until?.(msg)) return finish();
      gap ??= Math.max(ANSWERS_QUIET_MS_MIN, ANSWERS_QUIET_ROUND_TRIPS * (Date.now() - t0));
      clearTimeout(quiet);
      if (options.settled && !options.settled(answers)) return;
      quiet = setTimeout(() => finish(), gap);
    });
    bus.publish(subject, data, {
      reply: inbox,
      ...(options.headers ? { headers: options.headers } : {}),
    });
  });
}
