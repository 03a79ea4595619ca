/**
 * What the main thread (receiver_thread.ts) and the metrics receiver's thread
 * (_receiver_thread.ts) tell each other. Apart from the thread's module, which starts a receiver
 * when loaded in a worker: importing this starts nothing.
 */
import type { NatsAuth } from "../runtime/mod.ts";
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
}

/** What the main thread tells the receiver's thread. */
export type ToReceiverThread = { type: "stop"; graceMs: number };

/** What the receiver's thread tells the main thread. */
export type FromReceiverThread =
  | { type: "listening"; port: number }
  | { type: "failed"; message: string }
  /** Stopped (server, labels book and connection closed): the samples it journaled in all. */
  | { type: "stopped"; journaled: number };
