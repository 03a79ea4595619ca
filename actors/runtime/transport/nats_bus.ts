/**
 * The NATS Bus: the Bus contract over a NATS connection (nats.js v3, `@nats-io/transport-node`,
 * which runs on Node and on Deno). Handlers run from the client's callback, the fastest delivery
 * path it has; reconnection is the client's, unlimited by default, so a restarted nats-server is
 * picked up again and subscriptions resume.
 */
import {
  connect,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  PermissionViolationError,
} from "@nats-io/transport-node";
import {
  type Bus,
  type BusHandler,
  type BusHeaders,
  type BusMessage,
  BusRequestError,
  type BusSubscription,
  type PublishOptions,
  type RequestOptions,
  type SubscribeOptions,
} from "../../../protocol/mod.ts";
import { failRequestsOnDisconnect } from "./connection_loss.ts";
import { InboxRequests } from "./inbox_requests.ts";
import { mergeNatsAuth, type NatsAuth, natsAuthOptions, splitNatsUrl } from "./nats_auth.ts";
import {
  type AcknowledgedCounts,
  AcknowledgedPublishes,
  type AcknowledgedPublishesOptions,
} from "./acknowledged_publishes.ts";
import { ignoreErrorsAfterDestroy } from "./destroyed_socket_errors.ts";
import { PlainPublisher } from "./_plain_publisher.ts";

/** Options of `NatsBus.connect`. */
export interface NatsBusOptions {
  /** A name the server shows for this connection. */
  name?: string;
  /** Called when a handler throws; defaults to console.error. */
  onHandlerError?(err: unknown, msg: BusMessage): void;
  /** Called on connection status changes (disconnect, reconnect). */
  onStatus?(status: string): void;
  /**
   * Called once per operation and subject the server refused for lack of permission (a user
   * whose role does not cover what the process does); defaults to a line on stderr.
   */
  onPermissionDenied?(operation: string, subject: string): void;
  /**
   * Milliseconds the first connection may take, handshake included. Default
   * NATS_CONNECT_TIMEOUT_MS.
   */
  connectTimeoutMs?: number;
  /** The credentials (user and password or token in a server URL are taken too). */
  auth?: NatsAuth | undefined;
  /**
   * Bytes the outbound queue holds before a write within a task (HOST_OUTBOUND_FLUSH_BYTES for a
   * host). Default: nats.js's.
   */
  outboundFlushBytes?: number;
}

/**
 * How long a first connection may take, handshake included: a port that accepts TCP but never
 * speaks NATS (another service, a proxy with nothing behind it) fails in this long, not in the
 * client's default of 20 s.
 */
export const NATS_CONNECT_TIMEOUT_MS = 5_000;

/**
 * How often a connection pings its server. nats.js calls the connection stale, and makes it
 * again, at the ping after two went unanswered: a process whose main thread does not read its
 * socket for ~20 s loses it (a host bounds its feed's pulls by bytes for this:
 * edge/jetstream_input.ts).
 */
export const NATS_PING_INTERVAL_MS = 10_000;

/**
 * How many bytes a host's connection holds in its outbound queue before it writes them to the
 * socket within a task (nats.js's `pendingLimit`, 32 KiB by default; the queue is written at the
 * end of a task in any case). A fleet host publishes some 1,400 bytes of outputs a channel's
 * sample, and at 32 KiB a write the socket's writes were a tenth of its main thread (`bench
 * remote-write`, profiled): a write's cost is mostly its own, not its bytes', and 256 KiB halved
 * their time. Only a host's: a metrics receiver's JetStream publishes each wait for their
 * acknowledgement, which a later write only delays, and its throughput showed no gain from it.
 * nats.js reads the option though its types leave it out (a test holds it to it).
 */
export const HOST_OUTBOUND_FLUSH_BYTES = 256 * 1024;

/** Where a NATS connection stands. */
export interface NatsConnectionState {
  connected: boolean;
  /** The server it is (or was last) connected to. */
  server: string;
  /** Milliseconds since the epoch of the last change (connect, disconnect, reconnect). */
  sinceMs: number;
  /** Disconnections so far. */
  disconnects: number;
}

/** How many refused subjects a connection reports, each once (a bound on what it remembers). */
const PERMISSION_DENIALS_SAID_MAX = 100;

/** How long close() and flush() wait for a server that does not answer. */
const GIVE_UP_MS = 2000;

function toBusHeaders(h: MsgHdrs | undefined): BusHeaders | undefined {
  if (!h) return undefined;
  const out: BusHeaders = {};
  for (const [key, values] of h) out[key] = values[0] ?? "";
  return out;
}

function toNatsHeaders(h: BusHeaders): MsgHdrs {
  const out = natsHeaders();
  for (const [key, value] of Object.entries(h)) out.set(key, value);
  return out;
}

/**
 * A delivered message as a BusMessage. Its headers and reply subject are read from the NATS
 * message when first asked for: most handlers (a feed frame's) never ask, and nats.js decodes
 * the reply subject afresh on every read when there is none.
 */
class NatsBusMessage implements BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly #msg: Msg;
  #headers: BusHeaders | undefined | null = null;
  #reply: string | undefined | null = null;

  constructor(msg: Msg) {
    this.#msg = msg;
    this.subject = msg.subject;
    this.data = msg.data;
  }

  get headers(): BusHeaders | undefined {
    if (this.#headers === null) this.#headers = toBusHeaders(this.#msg.headers);
    return this.#headers;
  }

  get reply(): string | undefined {
    if (this.#reply === null) this.#reply = this.#msg.reply || undefined;
    return this.#reply;
  }
}

/** A Bus over NATS. */
export class NatsBus implements Bus {
  /** The underlying connection, for JetStream and KV. */
  readonly nc: NatsConnection;
  readonly #onHandlerError: (err: unknown, msg: BusMessage) => void;
  readonly #state: NatsConnectionState;
  /** Publishes under `#ackedPrefix` that a stream must acknowledge (see `acknowledge`). */
  #acked: AcknowledgedPublishes | undefined;
  /** Where `request` goes, made at the first. */
  #requests: InboxRequests | undefined;
  #ackedPrefix = "";
  /** The hot path's publishes: an actor's outputs, no reply and no headers. */
  readonly #plain: PlainPublisher;

  private constructor(nc: NatsConnection, options: NatsBusOptions) {
    this.nc = nc;
    this.#plain = new PlainPublisher(nc);
    // A host's every JetStream and key-value call is a request on this connection.
    failRequestsOnDisconnect(nc);
    this.#onHandlerError = options.onHandlerError ??
      ((err, msg) => console.error(`Handler for "${msg.subject}" threw:`, err));
    const state: NatsConnectionState = {
      connected: !nc.isClosed(),
      server: nc.getServer(),
      sinceMs: Date.now(),
      disconnects: 0,
    };
    this.#state = state;
    const onStatus = options.onStatus;
    const denied = new Set<string>();
    const onDenied = options.onPermissionDenied ??
      ((operation, subject) =>
        console.error(
          `NATS refused ${operation} on "${subject}" to connection "${
            options.name ?? "troupe"
          }": its user lacks the permission (docs/security.md)`,
        ));
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === "error" && s.error instanceof PermissionViolationError) {
          const key = `${s.error.operation} ${s.error.subject}`;
          // Said once per subject: a publisher refused would otherwise say it per message.
          if (!denied.has(key) && denied.size < PERMISSION_DENIALS_SAID_MAX) {
            denied.add(key);
            onDenied(s.error.operation, s.error.subject);
          }
        }
        if (s.type === "disconnect" || s.type === "reconnect") {
          state.connected = s.type === "reconnect";
          state.sinceMs = Date.now();
          if (s.type === "disconnect") state.disconnects++;
          else state.server = nc.getServer();
        }
        onStatus?.(s.type);
      }
    })().catch(() => {});
    nc.closed().then(() => {
      state.connected = false;
      state.sinceMs = Date.now();
    });
  }

  /** Resolves true once the connection is up, false when `ms` pass first or `signal` aborts. */
  async whenConnected(ms: number, signal?: AbortSignal): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.#state.connected) {
      if (this.nc.isClosed() || Date.now() >= until || signal?.aborted) return false;
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, until - Date.now()))));
    }
    return true;
  }

  /** Whether the connection is up, to which server, and since when. */
  get state(): Readonly<NatsConnectionState> {
    return this.#state;
  }

  /**
   * Connects to `servers` (e.g. `nats://127.0.0.1:4222`, or several separated by commas) with
   * `options.auth`. An error names the servers without any secret written into their URLs.
   */
  static async connect(servers: string, options: NatsBusOptions = {}): Promise<NatsBus> {
    const timeoutMs = options.connectTimeoutMs ?? NATS_CONNECT_TIMEOUT_MS;
    const split = splitNatsUrl(servers);
    const shown = split.url;
    const auth = natsAuthOptions(mergeNatsAuth(options.auth, split.auth));
    let nc: NatsConnection;
    ignoreErrorsAfterDestroy();
    try {
      const connectOptions = {
        servers: natsServerList(split.url),
        name: options.name ?? "troupe",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        pingInterval: NATS_PING_INTERVAL_MS,
        timeout: timeoutMs,
        // Otherwise nats.js makes two errors with stack traces for every request (a JetStream
        // publish, a KV put), in case its timer fires or to cancel it: a receiver taking new
        // channels (a label put each) pays that per channel. A failed request's error still
        // says what failed, without the stack that made the request.
        noAsyncTraces: true,
        ...(options.outboundFlushBytes === undefined
          ? {}
          : { pendingLimit: options.outboundFlushBytes }),
        ...auth,
      };
      nc = await connect(connectOptions);
    } catch (err) {
      if (/timeout/i.test((err as Error).message ?? "")) {
        throw new Error(
          `no NATS handshake within the connect timeout of ${timeoutMs} ms (something accepts ` +
            `connections on ${shown} but does not answer as a NATS server)`,
          { cause: err },
        );
      }
      throw err;
    }
    return new NatsBus(nc, options);
  }

  /** Wraps an existing connection. */
  static wrap(nc: NatsConnection, options: NatsBusOptions = {}): NatsBus {
    return new NatsBus(nc, options);
  }

  publish(subject: string, data: Uint8Array, options?: PublishOptions): void {
    if (options?.headers === undefined && !options?.reply) {
      // The hot path (an actor's output): no options object of ours, nor nats.js's.
      this.#plain.publish(subject, data);
      return;
    }
    if (this.#acked !== undefined && subject.startsWith(this.#ackedPrefix) && !options.reply) {
      const msgId = options.headers?.["Nats-Msg-Id"];
      if (msgId !== undefined) return this.#acked.add(subject, data, msgId);
    }
    const opts: { headers?: MsgHdrs; reply?: string } = {};
    if (options.headers) opts.headers = toNatsHeaders(options.headers);
    if (options.reply) opts.reply = options.reply;
    this.nc.publish(subject, data, opts);
  }

  /**
   * From now on, a publish on a subject matching `pattern` (a prefix and `>`, such as the
   * findings') that carries a `Nats-Msg-Id` is sent until a stream acknowledges it
   * (acknowledged_publishes.ts), not once: the stream must capture those subjects. Set once.
   */
  acknowledge(pattern: string, options: AcknowledgedPublishesOptions = {}): void {
    if (this.#acked !== undefined) {
      throw new Error(`Acknowledged publishing is set already, for "${this.#ackedPrefix}>"`);
    }
    if (!pattern.endsWith(".>") || /[*>]/.test(pattern.slice(0, -1))) {
      throw new Error(`Acknowledged publishing takes a pattern "<prefix>.>", got "${pattern}"`);
    }
    this.#ackedPrefix = pattern.slice(0, -1);
    this.#acked = new AcknowledgedPublishes(this.nc, options);
  }

  /** What acknowledged publishing came to (undefined without `acknowledge`). */
  get acknowledged(): AcknowledgedCounts | undefined {
    return this.#acked?.counts;
  }

  subscribe(pattern: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    const callback = (err: Error | null, msg: Msg) => {
      if (err) return;
      const busMsg = new NatsBusMessage(msg);
      try {
        handler(busMsg);
      } catch (e) {
        this.#onHandlerError(e, busMsg);
      }
    };
    const sub = options.queue === undefined
      ? this.nc.subscribe(pattern, { callback })
      : this.nc.subscribe(pattern, { callback, queue: options.queue });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    try {
      // As pairs: written with the request's line (PlainPublisher), not made nats.js's headers.
      const headers = options.headers ? Object.entries(options.headers) : undefined;
      this.#requests ??= new InboxRequests(this.nc);
      const msg = await this.#requests.request(subject, data, options.timeout, headers);
      return {
        subject: msg.subject,
        data: msg.data,
        headers: toBusHeaders(msg.headers),
        reply: undefined,
      };
    } catch (err) {
      const noResponders = isNoResponders(err);
      throw new BusRequestError(
        subject,
        `Request on "${subject}" failed: ${(err as Error).message}`,
        { cause: err, noResponders },
      );
    }
  }

  /** Waits for the server to have what was published; rejects at once while disconnected. */
  flush(): Promise<void> {
    if (!this.#state.connected) {
      return Promise.reject(new Error(`NATS at ${this.#state.server} is disconnected`));
    }
    return withTimeout(this.nc.flush(), GIVE_UP_MS, `NATS flush at ${this.#state.server}`);
  }

  /**
   * Drains the connection (what is published is sent, subscriptions finish), or closes it at once
   * while the server is away, so that a process whose nats-server went away still stops.
   */
  async close(): Promise<void> {
    if (this.nc.isClosed()) return this.#requests?.close();
    // What a stream must keep is given a few seconds to be acknowledged (a server away for
    // longer loses the rest, and says how many).
    await this.#acked?.close();
    try {
      if (this.#state.connected) {
        try {
          await withTimeout(this.nc.drain(), GIVE_UP_MS, "NATS drain");
          return;
        } catch {
          // The server went away while draining: close without it.
        }
      }
      await this.nc.close().catch(() => {});
    } finally {
      // A request still waiting gets no answer now.
      this.#requests?.close();
    }
  }
}

/** `p`, or a rejection naming `what` after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} got no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether nats.js rejected a request because nothing subscribes to its subject (the server says so
 * at once with a 503 status): a RequestError whose cause is the NoRespondersError (named
 * "NoResponders"), or that error itself, as v3 rejects either way depending on the request path.
 */
function isNoResponders(err: unknown): boolean {
  const e = err as { name?: unknown; cause?: { name?: unknown } } | null;
  return e?.name === "NoResponders" || e?.cause?.name === "NoResponders";
}

/**
 * The servers of a NATS URL that may name several separated by commas, as a list: nats.js takes a
 * string as one server, so a cluster's comma-separated URL handed over as it is reaches only one.
 */
export function natsServerList(url: string): string[] {
  return url.split(",").map((s) => s.trim()).filter((s) => s !== "");
}
