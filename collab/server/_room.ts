/**
 * One loaded session: its Yjs document and awareness, the connections on this node, and the path
 * every accepted update takes: checked against the session schema on a copy of the document first
 * (an editor's; a viewer's is never applied: _schema_gate.ts), applied to the document, appended to
 * the journal, and only once the journal has it durable, relayed to the other connections and
 * published to the other nodes. The
 * document is loaded fully before any message of any connection is handled, and a sync step 1 is
 * answered only after every update applied before it is durable, so no client ever sees state that
 * a crash could take back.
 */
import { setImmediate } from "node:timers";
import * as Y from "yjs";
import {
  applyAwarenessUpdate,
  Awareness,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from "y-protocols/awareness";
import { AwarenessRelay } from "./_awareness_relay.ts";
import { SchemaGate } from "./_schema_gate.ts";
import { ownEntries } from "./_awareness_owner.ts";
import type { CollabMetrics } from "./collab_metrics.ts";
import { type DocStore, LOAD_ORIGIN } from "./doc_store.ts";
import { canWrite, type Role, type RootSchema, SessionDoc } from "../session/mod.ts";
import {
  decodeRoomMessage,
  encodeAwareness,
  encodePermissionDenied,
  encodeSyncStep1,
  encodeSyncUpdate,
  MalformedMessageError,
  type PeerMessage,
  SYNC_STEP2,
} from "../../protocol/mod.ts";

/** The origin of updates and awareness that came from another node. */
export const REMOTE_ORIGIN = Symbol("collab-remote");
/** The origin of the server's own writes (schema stamp, the bridge's answers). */
export const SERVER_ORIGIN = Symbol("collab-server");

/** A client connection as a room sees it. */
export interface RoomConn {
  readonly role: Role;
  /** Who the client is, for the bridge's `by` (the token's role and a connection number). */
  readonly label: string;
  send(bytes: Uint8Array): void;
  /** Awareness client ids this connection set, removed when it leaves. */
  readonly awarenessIds: Set<number>;
}

/** What a room needs from its server. */
export interface RoomOptions {
  store: DocStore;
  metrics: CollabMetrics;
  /** Publishes to the other nodes (absent without NATS). */
  publish: ((msg: Omit<PeerMessage, "node">) => void) | undefined;
  /** Compact after this many journal records past the snapshot. */
  compactEveryUpdates: number;
  /** Bytes of not-yet-integrable updates a document keeps (see #boundPending). */
  pendingBytesMax: number;
  /** Awareness changes are sent in batches this often (see _awareness_relay.ts). */
  awarenessBatchMs: number;
  /** Awareness renewals (an unchanged state re-sent) are sent in batches this often. */
  awarenessRenewalBatchMs: number;
  now(): number;
  /** What each top-level key of the document holds (default SESSION_SCHEMA). */
  schema?: Readonly<Record<string, RootSchema>> | undefined;
  /** Called when the journal fails: the room can no longer accept updates. */
  onFailure(err: Error): void;
}

interface Pending {
  update: Uint8Array;
  origin: unknown;
  pos: number | Promise<number>;
  atMs: number;
}

export class Room {
  readonly session: string;
  readonly sdoc: SessionDoc;
  readonly doc: Y.Doc;
  readonly awareness: Awareness;
  readonly conns = new Set<RoomConn>();
  /** Resolves once the stored document is loaded. */
  readonly ready: Promise<void>;
  /** When the last connection left (ms), or undefined while any is connected. */
  idleSinceMs: number | undefined;
  lastCompactMs: number;
  #options: RoomOptions;
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
  /** A flush began in this turn of the event loop (see #flushLoop). */
  #flushedThisTurn = false;
  #failed: Error | undefined;
  #closed = false;
  #awarenessRelay: AwarenessRelay;
  /** Checks each editor's update against the schema before the document takes it (set once
   *  loaded). */
  #gate: SchemaGate | undefined;
  /** The awareness client id each connection owns (the first it set), and each id's owner. */
  readonly #ownIds = new Map<RoomConn, number>();
  readonly #owners = new Map<number, RoomConn>();
  /** Sync step 1s waiting for their answer, answered one per turn of the event loop. */
  get joining(): number {
    return this.#answers.length;
  }

  /** The sync step 1s themselves (see `#answerStep1`). */
  readonly #answers: Array<{
    conn: RoomConn;
    stateVector: Uint8Array;
    done: (err?: unknown) => void;
  }> = [];
  #answering = false;
  /**
   * The answer to an empty state vector (a client with nothing yet), until the document changes.
   */
  #fullStep2: Uint8Array | undefined;

  constructor(session: string, options: RoomOptions) {
    this.session = session;
    this.#options = options;
    this.doc = new Y.Doc();
    this.sdoc = new SessionDoc(this.doc);
    this.awareness = new Awareness(this.doc);
    this.awareness.setLocalState(null);
    this.doc.on("update", () => (this.#fullStep2 = undefined));
    this.#awarenessRelay = new AwarenessRelay({
      awareness: this.awareness,
      batchMs: options.awarenessBatchMs,
      renewalBatchMs: options.awarenessRenewalBatchMs,
      toConns: (update) => {
        const msg = encodeAwareness(update);
        for (const c of this.conns) c.send(msg);
      },
      toPeers: (update) => this.#options.publish?.({ kind: "awareness", payload: update }),
    });
    this.idleSinceMs = options.now();
    this.lastCompactMs = options.now();
    this.ready = this.#load();
  }

  async #load(): Promise<void> {
    await this.#options.store.load(this.session, this.doc);
    this.#gate = new SchemaGate(this.doc, this.#options.schema);
    this.doc.on("update", (update: Uint8Array, origin: unknown) => this.#onUpdate(update, origin));
    this.awareness.on("update", (change: AwarenessChange, origin: unknown) => {
      this.#onAwareness(change, origin);
    });
    this.sdoc.init(SERVER_ORIGIN);
    await this.durable();
  }

  /** Resolves when every update applied so far is durable and relayed. */
  async durable(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#failed) throw this.#failed;
  }

  /** Adds a connection and greets it as the reference server does: sync step 1, awareness. */
  join(conn: RoomConn): void {
    this.conns.add(conn);
    this.idleSinceMs = undefined;
    conn.send(encodeSyncStep1(Y.encodeStateVector(this.doc)));
    const states = [...this.awareness.getStates().keys()];
    if (states.length) conn.send(encodeAwareness(encodeAwarenessUpdate(this.awareness, states)));
  }

  /** Removes a connection and the awareness states it set. */
  leave(conn: RoomConn): void {
    if (!this.conns.delete(conn)) return;
    const own = this.#ownIds.get(conn);
    if (own !== undefined && this.#owners.get(own) === conn) this.#owners.delete(own);
    this.#ownIds.delete(conn);
    if (conn.awarenessIds.size && !this.#closed) {
      removeAwarenessStates(this.awareness, [...conn.awarenessIds], null);
    }
    if (this.conns.size === 0) this.idleSinceMs = this.#options.now();
  }

  /**
   * Handles one message of `conn`; throws MalformedMessageError when it cannot be taken (the
   * caller closes that socket with the reason). An update, awareness or query is handled before
   * it returns; only a sync step 1 returns a promise (its answer waits until the document is
   * durable), which the caller lets settle before the connection's next message. The caller runs
   * a message at once when nothing of its connection waits: a promise's hop between the socket's
   * read and the apply was a sizeable share of an update's time from its arrival to its relay
   * (docs/performance.md, "Figures behind the code").
   */
  handle(conn: RoomConn, bytes: Uint8Array): Promise<void> | undefined {
    const msg = decodeRoomMessage(bytes);
    const m = this.#options.metrics;
    switch (msg.type) {
      case "step1": {
        try {
          Y.decodeStateVector(msg.stateVector);
        } catch {
          throw new MalformedMessageError("sync step 1 holds no valid state vector");
        }
        return this.#answerStep1(conn, msg.stateVector);
      }
      case "step2":
      case "update": {
        const changes = checkUpdate(msg.update);
        if (!canWrite(conn.role)) {
          if (changes) this.#dropViewerWrite(conn, msg.update);
          return;
        }
        if (this.#failed) throw this.#failed;
        if (changes) {
          try {
            this.#gate!.admit(msg.update);
          } catch (err) {
            m.writesRefused.inc();
            conn.send(encodePermissionDenied((err as Error).message));
            throw err;
          }
          // The stock client's sync step 2 is often empty: counted only when it changes something.
          m.updatesIn.inc();
        }
        Y.applyUpdate(this.doc, msg.update, conn);
        this.#boundPending();
        return;
      }
      case "awareness": {
        try {
          // Only the connection's own client's entry: another's would show one user as another.
          const own = ownEntries(msg.update, (id, clock, state) => {
            // The stock client echoes every entry it receives back to the server: an echo
            // changes nothing (and claims nothing); an entry that would change another
            // client's state is refused.
            if (!this.#wouldChange(id, clock, state)) return false;
            if (this.#mayOwn(conn, id)) return true;
            m.awarenessRefused.inc();
            return false;
          });
          if (own.update) applyAwarenessUpdate(this.awareness, own.update, conn);
        } catch {
          throw new MalformedMessageError("awareness message holds no valid awareness update");
        }
        return;
      }
      case "query-awareness": {
        const ids = [...this.awareness.getStates().keys()];
        conn.send(encodeAwareness(encodeAwarenessUpdate(this.awareness, ids)));
        return;
      }
    }
  }

  /**
   * A viewer's update is never applied. One that would change the document is counted, and the
   * socket is told (y-protocols' permission-denied message: the stock client logs it, our page
   * rolls its copy back); the socket stays open, as a viewer's writes depend on nothing the
   * server needs. The stock client's sync step 2 carries every deletion it knows: that changes
   * nothing and is not a write.
   */
  #dropViewerWrite(conn: RoomConn, update: Uint8Array): void {
    if (!this.#gate!.probe(update)) return;
    this.#options.metrics.viewerWritesDropped.inc();
    conn.send(encodePermissionDenied(`A ${conn.role} may not write to this session`));
  }

  /**
   * Answers a sync step 1 with what the client lacks, once the document is durable. Answers go out
   * one per turn of the event loop, so that a join of hundreds of clients to a large document
   * leaves room for /healthz, other sockets and other rooms between them (they all resolved at
   * once after `durable()`, and their encodings ran back to back for seconds); and the answer to
   * an empty state vector, the same for every new client, is encoded once per document version.
   */
  #answerStep1(conn: RoomConn, stateVector: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#answers.push({
        conn,
        stateVector,
        done: (err) => (err === undefined ? resolve() : reject(err)),
      });
      if (!this.#answering) {
        this.#answering = true;
        setImmediate(() => void this.#answerNext());
      }
    });
  }

  async #answerNext(): Promise<void> {
    const next = this.#answers.shift();
    if (next) {
      try {
        await this.durable();
        next.conn.send(this.#step2For(next.stateVector));
        next.done();
      } catch (err) {
        next.done(err);
      }
    }
    if (this.#answers.length) setImmediate(() => void this.#answerNext());
    else this.#answering = false;
  }

  /** The sync step 2 for a client at `stateVector`. */
  #step2For(stateVector: Uint8Array): Uint8Array {
    const empty = stateVector.byteLength === 1 && stateVector[0] === 0;
    if (!empty) return encodeSyncUpdate(Y.encodeStateAsUpdate(this.doc, stateVector), SYNC_STEP2);
    return this.#fullStep2 ??= encodeSyncUpdate(Y.encodeStateAsUpdate(this.doc), SYNC_STEP2);
  }

  /** Applies an update from another node. */
  applyRemote(update: Uint8Array): void {
    checkUpdate(update);
    // Another node checked its clients' writes; the copy takes the raw update, pending and all.
    this.#gate?.mirror(update);
    Y.applyUpdate(this.doc, update, REMOTE_ORIGIN);
    this.#boundPending();
  }

  /**
   * Yjs keeps structs and deletions whose dependencies it lacks, and retries them on every later
   * update: a client sending updates with gaps would make each update dearer. Past the bound they
   * are dropped (never journaled nor acknowledged; a client re-sends them when it syncs again).
   */
  #boundPending(): void {
    const store = this.doc.store;
    const bytes = (store.pendingStructs?.update.length ?? 0) + (store.pendingDs?.length ?? 0);
    if (bytes > this.#options.pendingBytesMax) {
      store.pendingStructs = null;
      store.pendingDs = null;
      this.#gate?.dropPending();
      this.#options.metrics.pendingDropped.inc();
    }
  }

  /** Applies an awareness update from another node. */
  applyRemoteAwareness(update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, REMOTE_ORIGIN);
  }

  /** Compacts when the journal holds records past the snapshot and nothing is in flight. */
  async compact(): Promise<void> {
    await this.durable();
    const store = this.#options.store;
    if (this.#pending.length || store.sinceSnapshot(this.session) === 0) return;
    await this.#compactNow();
  }

  /** Snapshots the document over the records it holds, and tells the other nodes its state. */
  async #compactNow(): Promise<void> {
    const store = this.#options.store;
    // Captured synchronously: the state holds exactly the records up to `pos`.
    const pos = store.lastPosition(this.session);
    const state = Y.encodeStateAsUpdate(this.doc);
    this.lastCompactMs = this.#options.now();
    await store.compact(this.session, state, pos);
    this.#options.metrics.compactions.inc();
    this.#options.publish?.({ kind: "state", payload: state });
  }

  /** Makes everything durable, compacts, and frees the document. */
  async unload(): Promise<void> {
    await this.compact().catch(() => {});
    // A last checkpoint, so that a recording ends with the state the session had.
    this.#options.publish?.({ kind: "state", payload: Y.encodeStateAsUpdate(this.doc) });
    this.#closed = true;
    this.#awarenessRelay.close();
    this.awareness.destroy();
    this.#gate?.destroy();
    this.doc.destroy();
  }

  #onUpdate(update: Uint8Array, origin: unknown): void {
    if (origin === LOAD_ORIGIN) return;
    // A client's update and a peer's are in the copy already; the server's own writes are not.
    if (origin !== REMOTE_ORIGIN && !this.conns.has(origin as RoomConn)) this.#gate?.mirror(update);
    const pos = this.#options.store.append(this.session, update);
    this.#pending.push({ update, origin, pos, atMs: this.#options.now() });
    this.#startFlush();
  }

  /**
   * Starts the flush loop unless it runs. An update made in a microtask between the loop's last
   * look at the queue and its end (a control answer written back from a promise) would wait for
   * the next update to be relayed: the loop starts again when it ends with updates queued.
   */
  #startFlush(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flushLoop().finally(() => {
      this.#flushing = undefined;
      if (this.#pending.length && this.#failed === undefined) this.#startFlush();
    });
  }

  /**
   * Group commit: whatever arrived while the last sync ran is synced together. The first batch of
   * a turn of the event loop starts once the read that brought it is handled (a microtask: the
   * other messages of that read join it); a later one in the same turn (a burst: the loop was held
   * up and many sockets are readable) waits for the turn's end, so the burst goes out as one merged
   * update, not one per socket. Waiting for the turn's end every time made the first update wait
   * before its relay for the other sockets' reads and the stream machinery of the turn.
   */
  async #flushLoop(): Promise<void> {
    const { store, metrics, now } = this.#options;
    if (this.#flushedThisTurn) await new Promise<void>((resolve) => setImmediate(resolve));
    else await Promise.resolve();
    if (!this.#flushedThisTurn) {
      this.#flushedThisTurn = true;
      setImmediate(() => (this.#flushedThisTurn = false));
    }
    while (this.#pending.length) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        for (const p of batch) if (typeof p.pos !== "number") await p.pos;
        await store.sync();
      } catch (err) {
        this.#failed = new Error(
          `Cannot persist session "${this.session}": ${(err as Error).message}`,
          { cause: err },
        );
        this.#options.onFailure(this.#failed);
        return;
      }
      const t = now();
      // Relayed first: the clients wait for it, the gauge does not.
      this.#relay(batch);
      // The batch's first update waited longest: its lag is the batch's.
      metrics.persistLagSeconds.set((t - batch[0]!.atMs) / 1000);
      const due = store.sinceSnapshot(this.session) >= this.#options.compactEveryUpdates;
      if (due && this.#pending.length === 0) await this.#compactNow();
    }
  }

  /**
   * Sends what became durable together to every other connection, and each update of a client to
   * the other nodes. Several updates (the loop was held up, or several clients wrote in one turn)
   * go to a connection as one merged update, as the reference server hocuspocus does: a client
   * applies one message per update, a transaction, its observers and an update event each, and
   * the updates that pile up while the machine is busy are the ones whose latency is at stake.
   * A connection gets no update of its own: it gets the merge of the others' updates.
   */
  #relay(batch: Pending[]): void {
    const m = this.#options.metrics;
    const origins = new Set(batch.map((p) => p.origin));
    const merged = new Map<unknown, Uint8Array | null>(); // per origin: the others' updates
    const forOrigin = (origin: unknown): Uint8Array | null => {
      let msg = merged.get(origin);
      if (msg === undefined) {
        const updates = batch.filter((p) => p.origin !== origin).map((p) => p.update);
        msg = updates.length === 0 ? null : encodeSyncUpdate(mergeAll(updates));
        merged.set(origin, msg);
        if (updates.length > 1) m.updatesMerged.inc(updates.length);
      }
      return msg;
    };
    for (const c of this.conns) {
      const msg = forOrigin(origins.has(c) ? c : NO_CONN);
      if (msg === null) continue;
      c.send(msg);
      m.tally.updatesOut++;
    }
    for (const p of batch) {
      if (p.origin !== REMOTE_ORIGIN) {
        this.#options.publish?.({ kind: "update", payload: p.update });
      }
    }
  }

  /**
   * Whether `conn` may set awareness for `clientId`: a connection owns the first id it sets, if no
   * other connection here owns it, and no other id after that. (A client that reconnects before
   * the server has seen its old socket close shows up once the old one is gone.)
   */
  #mayOwn(conn: RoomConn, clientId: number): boolean {
    const own = this.#ownIds.get(conn);
    if (own !== undefined) return own === clientId;
    const owner = this.#owners.get(clientId);
    if (owner !== undefined && owner !== conn && this.conns.has(owner)) return false;
    this.#ownIds.set(conn, clientId);
    this.#owners.set(clientId, conn);
    return true;
  }

  /** Whether an awareness entry would change the state held for `clientId` (y-protocols' rule). */
  #wouldChange(clientId: number, clock: number, state: string): boolean {
    const held = this.awareness.meta.get(clientId)?.clock ?? 0;
    return held < clock ||
      (held === clock && state === "null" && this.awareness.states.has(clientId));
  }

  #onAwareness(change: AwarenessChange, origin: unknown): void {
    if (this.conns.has(origin as RoomConn)) {
      const ids = (origin as RoomConn).awarenessIds;
      for (const id of change.added) ids.add(id);
      for (const id of change.updated) ids.add(id);
      for (const id of change.removed) ids.delete(id);
    }
    this.#awarenessRelay.noted(change, origin === REMOTE_ORIGIN);
  }
}

/** An origin no connection has: the key of the merge every non-writer gets. */
const NO_CONN = Symbol("no-connection");

/** One update holding all of `updates` (the update itself when there is one). */
function mergeAll(updates: Uint8Array[]): Uint8Array {
  return updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
}

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

/**
 * Parses a Yjs update fully before it touches the document; throws MalformedMessageError. Returns
 * whether it changes anything (holds structs or deletions).
 */
function checkUpdate(update: Uint8Array): boolean {
  try {
    const { structs, ds } = Y.decodeUpdate(update);
    return structs.length > 0 || ds.clients.size > 0;
  } catch {
    throw new MalformedMessageError(`${update.length}-byte sync message holds no valid Yjs update`);
  }
}
