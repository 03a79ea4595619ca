/**
 * The collaboration server: y-websocket's protocol at `ws://HOST:PORT/collab/<session>`, so the
 * stock `y-websocket` client connects with server URL `ws://HOST:PORT/collab` and the session as
 * its room. Beyond the reference server it checks a signed token at the upgrade (before any
 * document is touched: 401 otherwise), drops and counts viewers' writes, refuses an editor's write
 * that does not fit the session schema (session_schema.ts: nothing stored, the socket closed with
 * 4422 and the reason), persists every update
 * through the journal before relaying it (see `_room.ts`), unloads idle documents, caps message
 * size, limits each connection's message rate, closes a socket that sends a malformed message with
 * the reason (never the server), pings to find dead peers, fans updates and awareness out to other
 * nodes over `troupe.collab.<session>`, and serves `/healthz` and `/metrics`.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { type Bus, MalformedMessageError } from "../../protocol/mod.ts";
import {
  answerOps,
  type OpsEndpoints,
  refuse,
  truncate,
} from "../../actors/runtime/operations/mod.ts";
import { cutWhenStalled, FrameWriter, SLOW_CLOSE_CHECK_MS } from "../socket/mod.ts";
import type { Room, RoomConn } from "./_room.ts";
import { LoadedRooms } from "./_loaded_rooms.ts";
import { WriteRefusedError } from "./_schema_gate.ts";
import { AntiEntropy } from "./anti_entropy.ts";
import {
  COLLAB_CLOSE_EXPIRED,
  COLLAB_CLOSE_REFUSED,
  COLLAB_CLOSE_SLOW,
  type CollabLimits,
  DEFAULT_COLLAB_LIMITS,
} from "./collab_limits.ts";
import { CollabMetrics } from "./collab_metrics.ts";
import type { StreamGateway } from "../gateway/mod.ts";
import {
  HISTORY_PATH,
  type HistoryService,
  INCIDENT_LIST_PATH,
  type IncidentListService,
} from "../history/mod.ts";
import type { DocStore } from "./doc_store.ts";
import {
  admitToken,
  checkSessionName,
  type Keyring,
  type RootSchema,
  type TokenClaims,
} from "../session/mod.ts";
import { type DashboardHandler, dashboardHttp } from "../web/mod.ts";

/** Pings a connection may leave unanswered in a row before it is closed. One is not enough: a
 *  stall of this process past a ping's period (a collection, a loaded machine) leaves every answer
 *  unread when the next ping is due, and would close every live connection at once. */
const PINGS_MISSED_MAX = 2;

/** Options of `CollabServer.start`. */
export interface CollabServerOptions {
  keyring: Keyring;
  store: DocStore;
  /** 0 (default): a free port. */
  port?: number;
  /** 127.0.0.1 by default. */
  host?: string;
  /** Fan-out to other nodes (a NatsBus); absent: this node alone. */
  bus?: Bus | undefined;
  /** This node's name on the bus (unique per node). */
  nodeId?: string;
  limits?: Partial<CollabLimits>;
  /** Milliseconds since the epoch (token expiry, idle time). */
  now?(): number;
  /** Called when a loaded session is created (the bridge attaches here). */
  onRoom?(room: Room): void;
  /** Serve the web dashboard at `/` (default true). */
  dashboard?: boolean;
  /** The host's HTTP base URL, where the dashboard's `/api/*` proxy sends scan requests. */
  scanUrl?: string | undefined;
  /** The stream gateway served at `/stream` (it needs NATS); absent: `/stream` answers 503. */
  stream?: StreamGateway | undefined;
  /** `GET /history` (it reads the feed stream, so it needs NATS); absent: it answers 503. */
  history?: HistoryService | undefined;
  /** `GET /incidents`, what a fresh page's incidents panel starts from; absent: 404. */
  incidentList?: IncidentListService | undefined;
  /** What an editor may write: each top-level key and its check (default SESSION_SCHEMA). */
  schema?: Readonly<Record<string, RootSchema>> | undefined;
}

interface Conn extends RoomConn {
  ws: WebSocket;
  alive: boolean;
  /** Pings in a row it left unanswered (judged as the next one is sent). */
  missed: number;
  tokens: number;
  refillAtMs: number;
  closing: boolean;
  /** Every message of the connection is handled after the one before (and after the load). */
  chain: Promise<void>;
  /** Messages of the connection queued on `chain` and not yet handled (or not yet settled). */
  queued: number;
  room: Room | undefined;
  /** The token's expiry, seconds since the epoch, and the timer that closes the socket then. */
  exp: number;
  expiry: ReturnType<typeof setTimeout> | undefined;
}

let connectionSeq = 0;

export class CollabServer {
  readonly metrics: CollabMetrics;
  readonly limits: CollabLimits;
  readonly nodeId: string;
  #http: Server;
  #wss: WebSocketServer;
  #options: CollabServerOptions;
  #now: () => number;
  readonly #rooms: LoadedRooms;
  #conns = new Set<Conn>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #port = 0;
  #closed = false;
  #dashboard: DashboardHandler | undefined;
  #antiEntropy: AntiEntropy | undefined;
  #frames = new FrameWriter();
  #ops: OpsEndpoints = {
    health: () => this.health(),
    metrics: async () => {
      this.metrics.connections.set(this.#conns.size);
      this.metrics.sessionsLoaded.set(this.#rooms.size);
      return {
        text: await this.metrics.registry.metrics(),
        contentType: this.metrics.registry.contentType,
      };
    },
  };

  private constructor(options: CollabServerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.limits = { ...DEFAULT_COLLAB_LIMITS, ...options.limits };
    this.nodeId = options.nodeId ?? `collab-${Math.random().toString(36).slice(2, 10)}`;
    this.metrics = new CollabMetrics({ node: this.nodeId });
    if (options.dashboard !== false) {
      this.#dashboard = dashboardHttp({
        keyring: options.keyring,
        scanUrl: options.scanUrl,
        bus: options.bus,
        now: this.#now,
      });
    }
    options.stream?.registerMetrics(this.metrics.registry);
    options.history?.registerMetrics(this.metrics.registry);
    if (options.bus && this.limits.anti_entropy_ms > 0) {
      this.#antiEntropy = new AntiEntropy({
        bus: options.bus,
        nodeId: this.nodeId,
        periodMs: this.limits.anti_entropy_ms,
        holdoffMs: this.limits.anti_entropy_holdoff_ms,
        now: this.#now,
        onRepair: () => this.metrics.antiEntropyRepairs.inc(),
        onRepairCovered: () => this.metrics.antiEntropyRepairsCovered.inc(),
        onRepairAsUpdate: () => this.metrics.antiEntropyRepairsAsUpdate.inc(),
        onMalformed: () => this.metrics.socketsClosed.inc({ reason: "peer_malformed" }),
      });
    }
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.message_bytes_max,
      perMessageDeflate: false,
    });
    this.#rooms = new LoadedRooms({
      store: options.store,
      bus: options.bus,
      nodeId: this.nodeId,
      limits: this.limits,
      metrics: this.metrics,
      schema: options.schema,
      antiEntropy: this.#antiEntropy,
      now: this.#now,
      onFailure: (room, err) => {
        for (const c of room.conns) this.#closeConn(c as Conn, 1011, "error", err.message);
      },
      onRoom: options.onRoom,
    });
    this.#http = createServer((req, res) => {
      void this.#onHttp(req, res);
    });
    this.#http.on("upgrade", (req, socket, head) => {
      void this.#onUpgrade(req, socket, head);
    });
  }

  /** Starts a server listening on `options.port`. */
  static async start(options: CollabServerOptions): Promise<CollabServer> {
    const server = new CollabServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#http.once("error", reject);
      server.#http.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
    const address = server.#http.address();
    server.#port = typeof address === "object" && address ? address.port : 0;
    const tick = Math.min(1000, server.limits.idle_unload_ms / 2);
    server.#timers.push(setInterval(() => void server.#rooms.housekeep(), tick));
    server.#timers.push(setInterval(() => server.#ping(), server.limits.ping_ms));
    server.#antiEntropy?.start();
    return server;
  }

  /** The port the server listens on. */
  get port(): number {
    return this.#port;
  }

  /** `host:port` where this machine reaches the server: loopback for a wildcard address, an IPv6
   *  address in brackets. */
  get origin(): string {
    const host = this.#options.host ?? "127.0.0.1";
    const at = ["0.0.0.0", "::", "[::]"].includes(host)
      ? "127.0.0.1"
      : host.includes(":") && !host.startsWith("[")
      ? `[${host}]`
      : host;
    return `${at}:${this.#port}`;
  }

  /** The y-websocket server URL (the session is the client's room). */
  get url(): string {
    return `ws://${this.origin}/collab`;
  }

  /** Loaded sessions' names. */
  sessions(): string[] {
    return this.#rooms.sessions();
  }

  /** The loaded room of `session`, if any (tests and the bridge read its document). */
  room(session: string): Room | undefined {
    return this.#rooms.room(session);
  }

  /** Health: connections and loaded sessions. */
  health(): {
    ok: boolean;
    node: string;
    connections: number;
    sessions: number;
    joining: number;
  } {
    return {
      ok: !this.#closed,
      node: this.nodeId,
      connections: this.#conns.size,
      sessions: this.#rooms.size,
      // Clients waiting for the document (sync step 1s not yet answered): a join in progress.
      joining: this.#rooms.joining(),
    };
  }

  /** Closes every connection, makes every document durable and compacted, and stops. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#antiEntropy?.stop();
    for (const c of this.#conns) c.ws.close(1001, "server shutting down");
    await this.#options.stream?.close();
    await this.#dashboard?.close();
    await this.#rooms.unloadAll();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    for (const c of this.#conns) c.ws.terminate();
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    // Keep-alive HTTP connections (a scrape of /metrics) too: Deno's node:http waits for them.
    this.#http.closeAllConnections();
    await closed;
  }

  async #onHttp(req: IncomingMessage, res: import("node:http").ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (await answerOps(req, res, this.#ops)) return;
    if (path === HISTORY_PATH) {
      const history = this.#options.history;
      if (history) return history.handle(req, res);
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("No history here: this collab server runs without NATS (start it with --nats)\n");
    } else if (path === INCIDENT_LIST_PATH && this.#options.incidentList) {
      return this.#options.incidentList.handle(req, res);
    } else if (!(await this.#dashboard?.(req, res))) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("Not found: WebSocket at /collab/<session>?token=..., or /healthz, /metrics\n");
    }
  }

  async #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://collab");
    const m = /^\/collab\/([^/]+)$/.exec(url.pathname);
    if (this.#closed) return refuse(socket, 503, "Server shutting down");
    if (url.pathname === "/stream") return this.#onStreamUpgrade(req, socket, head);
    if (!m) return refuse(socket, 404, "Not found: connect to /collab/<session>?token=...");
    let session: string;
    try {
      session = decodeURIComponent(m[1]!);
      checkSessionName(session);
    } catch (err) {
      return refuse(socket, 400, (err as Error).message);
    }
    const claims = await admitToken(url, {
      keyring: this.#options.keyring,
      session,
      nowMs: this.#now(),
      onRefused: (reason) => this.metrics.tokensRejected.inc({ reason }),
    }, (status, message) => refuse(socket, status, message));
    if (!claims) return;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, session, claims));
  }

  #onStreamUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> | void {
    const stream = this.#options.stream;
    if (stream) return stream.handleUpgrade(req, socket, head);
    const why =
      "No stream gateway here: this collab server runs without NATS (start it with --nats)";
    return refuse(socket, 503, why);
  }

  #onConnection(ws: WebSocket, session: string, claims: TokenClaims): void {
    const conn: Conn = {
      ws,
      role: claims.role,
      label: `${claims.role}#${++connectionSeq}@${this.nodeId}`,
      awarenessIds: new Set(),
      alive: true,
      missed: 0,
      tokens: this.limits.messages_burst,
      refillAtMs: this.#now(),
      closing: false,
      chain: Promise.resolve(),
      queued: 0,
      room: undefined,
      exp: claims.exp,
      expiry: undefined,
      send: (bytes) => {
        if (ws.readyState !== ws.OPEN || conn.closing) return;
        // What ws and its socket still hold for this client (its queue of unsent writes).
        const buffered = ws.bufferedAmount;
        if (buffered > this.limits.send_buffered_bytes_max) return this.#closeSlow(conn, buffered);
        this.#frames.send(ws, bytes);
        this.metrics.tally.bytesOut += bytes.length;
      },
    };
    this.#conns.add(conn);
    this.metrics.connections.set(this.#conns.size);
    this.#armExpiry(conn);
    conn.chain = this.#rooms.roomFor(session).then((r) => {
      conn.room = r;
      if (!conn.closing) r.join(conn);
    });
    conn.chain.catch((err) => this.#closeConn(conn, 1011, "error", (err as Error).message));
    ws.on("pong", () => (conn.alive = true));
    ws.on("message", (data, isBinary) => this.#onMessage(conn, toBytes(data), isBinary));
    ws.on("close", () => {
      conn.closing = true;
      clearTimeout(conn.expiry);
      this.#conns.delete(conn);
      this.metrics.connections.set(this.#conns.size);
      void conn.chain.finally(() => conn.room?.leave(conn));
    });
    // ws closes the socket itself on a frame it cannot take (over maxPayload: 1009).
    ws.on("error", (err: Error & { code?: string }) => {
      conn.closing = true;
      const oversize = err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";
      this.metrics.socketsClosed.inc({ reason: oversize ? "oversize" : "protocol" });
    });
  }

  /**
   * One message: past the rate limit, handled in order after the room has loaded. When nothing of
   * the connection waits (its room is loaded, no earlier message is pending), it is handled at
   * once, in the socket's read: an update is then applied, journaled and on its way to the relay
   * before this returns (see `Room.handle`).
   */
  #onMessage(conn: Conn, bytes: Uint8Array, isBinary: boolean): void {
    if (conn.closing) return;
    this.metrics.tally.bytesIn += bytes.length;
    if (!isBinary) return this.#closeConn(conn, 1003, "malformed", "text frames are not taken");
    if (!this.#takeToken(conn)) {
      const why = `more than ${this.limits.messages_per_s} messages/s`;
      return this.#closeConn(conn, 1008, "rate", why);
    }
    if (conn.queued === 0 && conn.room !== undefined) {
      const pending = this.#handle(conn, bytes);
      if (pending) this.#queue(conn, pending);
      return;
    }
    this.#queue(conn, conn.chain.then(() => this.#handle(conn, bytes)));
  }

  /** Makes `conn`'s next message wait for `work`; its failure closes the connection. */
  #queue(conn: Conn, work: Promise<void>): void {
    conn.queued++;
    conn.chain = work.catch((err) => this.#onHandleError(conn, err)).finally(() => {
      conn.queued--;
    });
  }

  /** Handles one message of `conn` now; returns a promise when its handling goes on. */
  #handle(conn: Conn, bytes: Uint8Array): Promise<void> | undefined {
    if (conn.closing) return;
    this.metrics.tally.messagesIn++;
    try {
      return conn.room!.handle(conn, bytes);
    } catch (err) {
      this.#onHandleError(conn, err);
    }
  }

  #onHandleError(conn: Conn, err: unknown): void {
    if (err instanceof MalformedMessageError) {
      this.#closeConn(conn, 1007, "malformed", err.message);
    } else if (err instanceof WriteRefusedError) {
      this.#closeConn(conn, COLLAB_CLOSE_REFUSED, "refused", err.message);
    } else this.#closeConn(conn, 1011, "error", (err as Error).message);
  }

  #takeToken(conn: Conn): boolean {
    const now = this.#now();
    const { messages_per_s: rate, messages_burst: burst } = this.limits;
    conn.tokens = Math.min(burst, conn.tokens + ((now - conn.refillAtMs) / 1000) * rate);
    conn.refillAtMs = now;
    if (conn.tokens < 1) return false;
    conn.tokens--;
    return true;
  }

  #closeConn(conn: Conn, code: number, reason: string, detail: string): void {
    if (conn.closing) return;
    conn.closing = true;
    this.metrics.socketsClosed.inc({ reason });
    // A close reason is at most 123 bytes.
    conn.ws.close(code, truncate(detail, 120));
  }

  /**
   * Closes `conn` with 4401 when its token expires: a token is checked at the upgrade, and an open
   * socket does not outlive it (the client reconnects with a fresh token). Timers hold at most
   * ~24.8 days; a longer token's timer is armed again when it fires.
   */
  #armExpiry(conn: Conn): void {
    const leftMs = conn.exp * 1000 - this.#now();
    conn.expiry = setTimeout(() => {
      if (conn.exp * 1000 > this.#now()) return this.#armExpiry(conn);
      const at = new Date(conn.exp * 1000).toISOString();
      this.#closeConn(conn, COLLAB_CLOSE_EXPIRED, "expired", `token expired at ${at}`);
    }, Math.min(Math.max(0, leftMs), 2 ** 31 - 1));
    (conn.expiry as { unref?: () => void }).unref?.();
  }

  #closeSlow(conn: Conn, buffered: number): void {
    const bound = this.limits.send_buffered_bytes_max;
    const why = `slow consumer: ${buffered} bytes unsent, bound ${bound}; reconnect to resync`;
    this.#closeConn(conn, COLLAB_CLOSE_SLOW, "slow", why);
    cutWhenStalled(conn.ws, SLOW_CLOSE_CHECK_MS);
  }

  #ping(): void {
    for (const c of this.#conns) {
      c.missed = c.alive ? 0 : c.missed + 1;
      if (c.missed >= PINGS_MISSED_MAX) {
        this.metrics.socketsClosed.inc({ reason: "liveness" });
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}

function toBytes(data: unknown): Uint8Array {
  // ws hands binary messages over as Buffers (binaryType "nodebuffer"), which are Uint8Arrays.
  return data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);
}
