/**
 * A request in flight when the connection loses its server is never answered: nats.js moves to
 * another server of the cluster and resubscribes, but an answer sent meanwhile is gone, and the
 * request waits out its whole timeout (a journal append's is seconds, during which its actor
 * instance stands still). `lostOnDisconnect` ends such a wait at the disconnect instead, with a
 * `RequestLostError`, which callers treat as a timeout: the request's fate is unknown.
 *
 * A request sent while the connection has no server is worse off: nats.js drops what it was
 * given to send when it dials the next server, so the request waits out its timeout though it
 * never left (a lease renewal sent so lost its lease, a journal's read-back stalled its actor
 * instance for as long). `failRequestsOnDisconnect` covers every request a connection makes
 * (JetStream's API calls, publishes and key-value reads and writes all go through `request`):
 * one in flight at a disconnect fails then, and one made while the connection is away is held
 * and sent once it is back (`RequestNotSentError` if that takes the request's whole timeout).
 */
import type { NatsConnection } from "@nats-io/transport-node";

/** A request whose connection lost its server while it waited: it may or may not have been done. */
export class RequestLostError extends Error {
  override name = "RequestLostError";
}

/** A request held while the connection had no server, for its whole timeout: never sent. */
export class RequestNotSentError extends Error {
  override name = "RequestNotSentError";
}

/** What is known of a connection's server, from its status. */
interface Watch {
  /**
   * How to fail each request in flight, at the next disconnect. A request leaves the set as it
   * settles, so nothing of a settled request is held until a disconnect that may never come.
   */
  inFlight: Set<(err: RequestLostError) => void>;
  /** Told of every disconnect, for as long as they are in the set (see `onDisconnect`). */
  listeners: Set<(err: RequestLostError) => void>;
  /** While the connection has no server: resolves when it has one again (or is closed). */
  back: Promise<void> | undefined;
  up: () => void;
}

const watches = new WeakMap<NatsConnection, Watch>();

/** `nc`'s watch, made (and its status followed) at the first call. */
function watchOf(nc: NatsConnection): Watch {
  const known = watches.get(nc);
  if (known) return known;
  const w: Watch = { inFlight: new Set(), listeners: new Set(), back: undefined, up: () => {} };
  watches.set(nc, w);
  const back = () => {
    w.back = undefined;
    w.up();
  };
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        const lost = [...w.inFlight];
        w.inFlight.clear();
        w.back ??= new Promise<void>((resolve) => (w.up = resolve));
        const err = new RequestLostError("the connection to NATS was lost");
        for (const fail of lost) fail(err);
        for (const listener of w.listeners) listener(err);
      } else if (s.type === "reconnect") {
        back();
      }
    }
  })().catch(() => {}).finally(back); // closed: what waits is sent, and fails as closed
  return w;
}

/** `request`, rejected with a RequestLostError if `nc` loses its server before it settles. */
export function lostOnDisconnect<T>(
  nc: NatsConnection,
  what: string,
  request: Promise<T>,
): Promise<T> {
  const inFlight = watchOf(nc).inFlight;
  return new Promise<T>((resolve, reject) => {
    const fail = (err: RequestLostError) =>
      reject(
        new RequestLostError(`Cannot ${what}: the connection to NATS was lost before its answer`, {
          cause: err,
        }),
      );
    inFlight.add(fail);
    request.then(
      (value) => {
        inFlight.delete(fail);
        resolve(value);
      },
      (err) => {
        inFlight.delete(fail);
        reject(err);
      },
    );
  });
}

const failing = new WeakSet<NatsConnection>();

/** The timeout nats.js gives a request that names none, ms. */
const NATS_REQUEST_TIMEOUT_MS = 1000;

/**
 * Makes every request `nc` sends from now on fail with a RequestLostError if the connection
 * loses its server before the answer, and wait for a server when it has none (once per
 * connection; later calls do nothing).
 */
export function failRequestsOnDisconnect(nc: NatsConnection): void {
  if (failing.has(nc)) return;
  failing.add(nc);
  const request = nc.request.bind(nc);
  watchOf(nc); // its status followed from now on
  nc.request = (subject, payload, opts) => {
    const what = `get an answer on "${subject}"`;
    const send = () => lostOnDisconnect(nc, what, request(subject, payload, opts));
    const held = untilServer(nc, opts?.timeout ?? NATS_REQUEST_TIMEOUT_MS, what);
    return held === undefined ? send() : held.then(send);
  };
}

/**
 * Undefined while `nc` has a server; while it has none, a promise that resolves once it has one
 * again (or is closed), or rejects with a RequestNotSentError when `timeoutMs` pass first: how a
 * request (`what`, "get an answer on ...") made while the connection is away is held.
 */
export function untilServer(
  nc: NatsConnection,
  timeoutMs: number,
  what: string,
): Promise<void> | undefined {
  const back = watchOf(nc).back;
  if (back === undefined) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<"gave up">((resolve) => {
    timer = setTimeout(() => resolve("gave up"), timeoutMs);
  });
  return Promise.race([back, gaveUp]).then((outcome) => {
    clearTimeout(timer);
    if (outcome !== "gave up") return;
    throw new RequestNotSentError(
      `Cannot ${what}: the connection to NATS had no server for the request's whole ` +
        `timeout of ${timeoutMs} ms`,
    );
  });
}

/**
 * Calls `listener` at each disconnect of `nc` (with the RequestLostError that requests in flight
 * then fail with) until the returned function is called.
 */
export function onDisconnect(
  nc: NatsConnection,
  listener: (err: RequestLostError) => void,
): () => void {
  const listeners = watchOf(nc).listeners;
  listeners.add(listener);
  return () => listeners.delete(listener);
}
