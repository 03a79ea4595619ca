/**
 * The Bus contract: the one interface through which troupe's parts exchange bytes. `InProcessBus`
 * (embedded, and the basis of the simulated bus) and `NatsBus` implement it with the same subject
 * matching, so code written against a Bus runs unchanged on either.
 */

/** Message headers: NATS headers, or their in-process equivalent. */
export type BusHeaders = Record<string, string>;

/** A delivered message. `data` must be treated as read-only: it may be shared by subscribers. */
export interface BusMessage {
  subject: string;
  data: Uint8Array;
  headers: BusHeaders | undefined;
  /** The reply subject, when the publisher expects an answer. */
  reply: string | undefined;
}

/** Options of `publish`. */
export interface PublishOptions {
  headers?: BusHeaders;
  reply?: string;
}

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** Members of one queue group share the messages: each message goes to one member. */
  queue?: string;
}

/** Options of `request`. */
export interface RequestOptions {
  /** Milliseconds to wait for the reply before rejecting with a timeout error. */
  timeout: number;
  headers?: BusHeaders;
}

/** A live subscription. */
export interface BusSubscription {
  unsubscribe(): void;
}

/**
 * Called once per delivered message; an exception is caught and reported, never fatal to the bus.
 */
export type BusHandler = (msg: BusMessage) => void;

/** The Bus contract. */
export interface Bus {
  /** Sends `data` to every subscriber whose pattern matches `subject` (one per queue group). */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): void;
  /** Delivers messages whose subjects match `pattern` (`*` one token, `>` the rest). */
  subscribe(pattern: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription;
  /** Publishes with a reply subject and resolves with the first reply. */
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage>;
  /** Resolves when everything published so far has been handed on. */
  flush(): Promise<void>;
  /** Drains and closes; publishing afterwards throws. */
  close(): Promise<void>;
}

/** Options of a BusRequestError. */
export interface BusRequestErrorOptions {
  cause?: unknown;
  /** No one subscribes to the subject (NATS's "no responders"), rather than no answer in time. */
  noResponders?: boolean;
}

/** Raised by `request` when no reply arrives in time, or no one is listening. */
export class BusRequestError extends Error {
  override name = "BusRequestError";
  readonly subject: string;
  /**
   * Whether the request failed because nothing subscribes to its subject (known at once), rather
   * than because no answer came in time: a caller can then say that no answerer runs at all.
   */
  readonly noResponders: boolean;
  constructor(subject: string, message: string, options: BusRequestErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.subject = subject;
    this.noResponders = options.noResponders ?? false;
  }
}
