/**
 * The sessions a collaboration server has loaded: each room loaded on its first connection (after
 * any unload of it in progress), caught up from and fanned out to the other nodes over the bus,
 * compacted when due and unloaded when idle.
 */
import {
  type Bus,
  type BusMessage,
  type BusSubscription,
  collabSubject,
  decodePeerMessage,
  encodePeerMessage,
} from "../../protocol/mod.ts";
import { answerCatchUps, catchUp } from "./_catch_up.ts";
import { Room } from "./_room.ts";
import { type AntiEntropy, headerOf, REPAIR_FOR_HEADER } from "./anti_entropy.ts";
import type { CollabLimits } from "./collab_limits.ts";
import type { CollabMetrics } from "./collab_metrics.ts";
import type { DocStore } from "./doc_store.ts";
import type { RootSchema } from "../session/mod.ts";

/** What the rooms work with: the server's store, bus, limits and metrics. */
export interface LoadedRoomsOptions {
  store: DocStore;
  bus: Bus | undefined;
  nodeId: string;
  limits: CollabLimits;
  metrics: CollabMetrics;
  schema: Readonly<Record<string, RootSchema>> | undefined;
  antiEntropy: AntiEntropy | undefined;
  now(): number;
  /** A room's document cannot be kept: its connections are closed. */
  onFailure(room: Room, err: Error): void;
  /** Called when a loaded session is created (the bridge attaches here). */
  onRoom: ((room: Room) => void) | undefined;
}

interface LoadedRoom {
  room: Room;
  subs: BusSubscription[];
}

/** The loaded rooms of one server, by session. */
export class LoadedRooms {
  readonly #options: LoadedRoomsOptions;
  readonly #loaded = new Map<string, LoadedRoom>();
  readonly #unloading = new Map<string, Promise<void>>();

  constructor(options: LoadedRoomsOptions) {
    this.#options = options;
  }

  /** How many sessions are loaded. */
  get size(): number {
    return this.#loaded.size;
  }

  /** Loaded sessions' names. */
  sessions(): string[] {
    return [...this.#loaded.keys()];
  }

  /** The loaded room of `session`, if any. */
  room(session: string): Room | undefined {
    return this.#loaded.get(session)?.room;
  }

  /** Clients waiting for a document (sync step 1s not yet answered), over every room. */
  joining(): number {
    let joining = 0;
    for (const loaded of this.#loaded.values()) joining += loaded.room.joining;
    return joining;
  }

  /** Unloads every room and waits for every unload in progress. */
  async unloadAll(): Promise<void> {
    for (const session of [...this.#loaded.keys()]) await this.unload(session);
    await Promise.all(this.#unloading.values());
  }

  /** The loaded room of `session`, loading it (after any unload in progress) when needed. */
  async roomFor(session: string): Promise<Room> {
    for (;;) {
      const loaded = this.#loaded.get(session);
      if (loaded) {
        await loaded.room.ready;
        return loaded.room;
      }
      const unloading = this.#unloading.get(session);
      if (!unloading) break;
      await unloading;
    }
    const bus = this.#options.bus;
    const subject = collabSubject(session);
    const room = new Room(session, {
      store: this.#options.store,
      metrics: this.#options.metrics,
      publish: bus
        ? (m) => bus.publish(subject, encodePeerMessage({ ...m, node: this.#options.nodeId }))
        : undefined,
      compactEveryUpdates: this.#options.limits.compact_every_updates,
      pendingBytesMax: this.#options.limits.pending_bytes_max,
      awarenessBatchMs: this.#options.limits.awareness_batch_ms,
      awarenessRenewalBatchMs: this.#options.limits.awareness_renewal_batch_ms,
      schema: this.#options.schema,
      now: this.#options.now,
      onFailure: (err) => this.#options.onFailure(room, err),
    });
    const loaded: LoadedRoom = { room, subs: [] };
    this.#loaded.set(session, loaded);
    this.#options.metrics.sessionsLoaded.set(this.#loaded.size);
    if (bus) {
      loaded.subs.push(bus.subscribe(subject, (msg) => {
        void room.ready.then(() => this.#onPeer(room, msg));
      }));
    }
    await room.ready;
    if (bus) {
      await catchUp(room, {
        bus,
        nodeId: this.#options.nodeId,
        waitMs: this.#options.limits.catch_up_ms,
        lateMs: this.#options.limits.catch_up_late_ms,
        isLoaded: () => this.#loaded.get(session) === loaded,
      });
      loaded.subs.push(answerCatchUps(room, bus));
    }
    if (this.#options.antiEntropy) loaded.subs.push(this.#options.antiEntropy.attach(room));
    this.#options.onRoom?.(room);
    return room;
  }

  #onPeer(room: Room, msg: BusMessage): void {
    try {
      const m = decodePeerMessage(msg.data);
      if (m.node === this.#options.nodeId) return;
      this.#options.metrics.peerMessagesIn.inc();
      if (m.kind === "awareness") return room.applyRemoteAwareness(m.payload);
      room.applyRemote(m.payload); // an update, a repair or a checkpoint: each merges the same way
      // A repair, or one sent as an update for a node that does not read repairs.
      const target = m.kind === "repair" ? m.target : headerOf(msg.headers, REPAIR_FOR_HEADER);
      if (target !== undefined) {
        this.#options.antiEntropy?.repairSeen(room.session, target, m.payload);
      }
    } catch {
      this.#options.metrics.socketsClosed.inc({ reason: "peer_malformed" });
    }
  }

  /** Unloads the rooms idle for `idle_unload_ms`; compacts those due. */
  async housekeep(): Promise<void> {
    const now = this.#options.now();
    for (const [session, { room }] of this.#loaded) {
      if (room.conns.size === 0 && room.idleSinceMs !== undefined) {
        if (now - room.idleSinceMs >= this.#options.limits.idle_unload_ms) {
          void this.unload(session);
          continue;
        }
      }
      if (now - room.lastCompactMs >= this.#options.limits.compact_every_ms) {
        await room.compact().catch(() => {});
      }
    }
  }

  /** Unloads `session`'s room: its document made durable and compacted. */
  unload(session: string): Promise<void> {
    const loaded = this.#loaded.get(session);
    if (!loaded) return this.#unloading.get(session) ?? Promise.resolve();
    this.#loaded.delete(session);
    this.#options.metrics.sessionsLoaded.set(this.#loaded.size);
    for (const s of loaded.subs) s.unsubscribe();
    const done = loaded.room.ready.catch(() => {}).then(() => loaded.room.unload()).finally(() => {
      this.#unloading.delete(session);
    });
    this.#unloading.set(session, done);
    return done;
  }
}
