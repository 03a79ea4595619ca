/**
 * What the main thread (receiver_thread.ts) and the metrics receiver's thread
 * (_receiver_thread.ts) tell each other. Apart from the thread's module, which starts a receiver
 * when loaded in a worker: importing this starts nothing.
 */
import type { FeedStreamOptions, NatsAuth } from "../runtime/mod.ts";
import type { LifecycleMessage, ThreadStop } from "../threads/mod.ts";
import type { IngestSettings } from "./ingest_settings.ts";

/** What the main thread gives the receiver's thread. */
export interface ReceiverThreadData {
  /** Marks the worker as the receiver's. */
  receiverThread: true;
  /** The `remote_write` block as the config file has it (checked again in the thread). */
  raw: Record<string, unknown>;
  /** Defaults under the block (plain values: no selectors). */
  defaults: Omit<Partial<IngestSettings>, "match">;
  /** The NATS server URL (list) the thread connects to, with a connection of its own. */
  nats: string;
  /** Its credentials (plain data: file paths and values, read in the thread). */
  natsAuth: NatsAuth;
  /** The name the server shows for its connection. */
  name: string;
  /** The source name its batches carry. */
  src: string;
  /** The feed stream's replicas and limits (plain numbers). */
  feedStream: FeedStreamOptions;
}

/** What the main thread tells the receiver's thread: stop, giving requests `graceMs`. */
export type ToReceiverThread = ThreadStop<{ graceMs: number }>;

/** What the receiver's thread says once it listens. */
export interface ReceiverStarted {
  /** The port it listens on. */
  port: number;
}

/** What the receiver's thread says once stopped (server, labels book, connection closed). */
export interface ReceiverStopped {
  /** The samples it journaled in all. */
  journaled: number;
}

/**
 * What the receiver's thread tells the main thread: its lifecycle (thread_lifecycle.ts), where
 * `failed` is why it could not listen and `fatal` an error nothing caught once it listens.
 */
export type FromReceiverThread = LifecycleMessage<ReceiverStarted, ReceiverStopped>;
