/**
 * A request in flight when the connection loses its server is never answered: nats.js moves to
 * another server of the cluster and resubscribes, but an answer sent meanwhile is gone, and the
 * request waits out its whole timeout (a journal append's is seconds, during which its actor
 * instance stands still). `lostOnDisconnect` ends such a wait at the disconnect instead, with a
 * `RequestLostError`, which callers treat as a timeout: the request's fate is unknown.
 */
import type { NatsConnection } from "@nats-io/transport-node";

/** A request whose connection lost its server while it waited: it may or may not have been done. */
export class RequestLostError extends Error {
  override name = "RequestLostError";
}

interface Watch {
  lost: Promise<never>;
  fail: (err: RequestLostError) => void;
}

const watches = new WeakMap<NatsConnection, Watch>();

function nextLoss(): Watch {
  let fail: (err: RequestLostError) => void = () => {};
  const lost = new Promise<never>((_, reject) => (fail = reject));
  lost.catch(() => {}); // awaited only by requests in flight
  return { lost, fail };
}

/** `request`, rejected with a RequestLostError if `nc` loses its server before it settles. */
export function lostOnDisconnect<T>(
  nc: NatsConnection,
  what: string,
  request: Promise<T>,
): Promise<T> {
  let w = watches.get(nc);
  if (!w) {
    const watch = nextLoss();
    watches.set(nc, w = watch);
    (async () => {
      for await (const s of nc.status()) {
        if (s.type !== "disconnect") continue;
        const was = watches.get(nc)!;
        watches.set(nc, nextLoss());
        was.fail(new RequestLostError("the connection to NATS was lost"));
      }
    })().catch(() => {});
  }
  return Promise.race([
    request,
    w.lost.catch((err: RequestLostError) => {
      throw new RequestLostError(
        `Cannot ${what}: the connection to NATS was lost before its answer`,
        {
          cause: err,
        },
      );
    }),
  ]);
}
