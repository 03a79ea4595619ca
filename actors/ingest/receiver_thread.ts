/**
 * The metrics receiver on a worker thread of its own (_receiver_thread.ts), beside a host: the
 * thread listens, decodes, matches, names channels, journals on the feed stream over its own NATS
 * connection and answers, so a request's acknowledgement never waits behind the detectors'
 * work on the host's event loop (tens of thousands of instances at 10,000 channels). The host
 * reads the receiver's batches from the feed stream as any feed; the main thread keeps only the
 * thread's start and stop. It needs NATS: on the in-process bus the receiver stays on the host's
 * thread (IngestServer), the only way to that bus.
 */
import type { Worker } from "node:worker_threads";
import type { FeedStreamOptions, NatsAuth } from "../runtime/mod.ts";
import { startWorker, stopThread, ThreadStartError, untilStarted } from "../threads/mod.ts";
import { type IngestSettings, parseIngestSettings } from "./ingest_settings.ts";
import type {
  FromReceiverThread,
  ReceiverStarted,
  ReceiverStopped,
  ReceiverThreadData,
} from "./_receiver_thread_wire.ts";

/** Options of `ReceiverThread.start`. */
export interface ReceiverThreadOptions {
  /** The NATS server URL (list) the thread connects to. */
  nats: string;
  /** Its credentials. */
  natsAuth?: NatsAuth | undefined;
  /** The name the server shows for the thread's connection. */
  name: string;
  /** The source name its batches carry; default "remote-write". */
  src?: string;
  /** Defaults under the `remote_write` block (the host's channel limit). */
  defaults?: Omit<Partial<IngestSettings>, "match">;
  /** The feed stream's replicas and limits, should the thread be the first to make it. */
  feedStream?: FeedStreamOptions;
}

/** The thread, as the errors of its start and its end name it. */
const THREAD = "the metrics receiver's thread";
/** The longest the thread may take to listen (connect, open the stream and the bucket). */
const START_MS_MAX = 60_000;
/** The longest a stop waits for the thread past the requests' grace before ending it. */
const STOP_MS_MAX = 5_000;

/** A metrics receiver running on a worker thread. */
export class ReceiverThread {
  readonly settings: IngestSettings;
  /** The port it listens on. */
  readonly port: number;
  /**
   * Resolves when the thread ends without being asked to (an error nothing caught in it): the
   * receiver no longer answers, and its host decides what follows.
   */
  readonly fatal: Promise<Error>;
  readonly #worker: Worker;
  /**
   * `asked` once a stop is asked (or the start failed): the thread's end is then no failure;
   * `exited` once it has ended.
   */
  readonly #ending: Ending;
  #stopping: Promise<{ journaled: number }> | undefined;

  private constructor(
    settings: IngestSettings,
    started: { worker: Worker; port: number; fatal: Promise<Error>; ending: Ending },
  ) {
    this.settings = settings;
    this.port = started.port;
    this.#worker = started.worker;
    this.fatal = started.fatal;
    this.#ending = started.ending;
  }

  /**
   * Starts the receiver the `remote_write` block `raw` sets up on a thread of its own; resolves
   * once it listens. A bad block throws here, as parseIngestSettings does, before any thread.
   */
  static async start(
    raw: Record<string, unknown>,
    options: ReceiverThreadOptions,
  ): Promise<ReceiverThread> {
    const defaults = options.defaults ?? {};
    const settings = parseIngestSettings(raw, "remote_write", defaults);
    const data: ReceiverThreadData = {
      receiverThread: true,
      raw,
      defaults,
      nats: options.nats,
      natsAuth: options.natsAuth ?? {},
      name: options.name,
      src: options.src ?? "remote-write",
      feedStream: options.feedStream ?? {},
    };
    const worker = await startWorker(new URL("./_receiver_thread.ts", import.meta.url), {
      workerData: data,
    });
    const ending: Ending = { asked: false, exited: false };
    const fatal = new Promise<Error>((resolve) => {
      worker.on("error", (err: Error) => {
        if (!ending.asked) {
          resolve(new Error(`${THREAD} failed: ${err.message}`));
        }
      });
      // Once it listens, a failure it reports (an error nothing caught in it) ends it: its
      // server may be half broken, and its host stops with the reason.
      worker.on("message", (m: FromReceiverThread) => {
        if (m.type !== "fatal" || ending.asked) return;
        resolve(new Error(`${THREAD} failed: ${m.message}`));
        ending.asked = true;
        void worker.terminate().catch(() => 0);
      });
      worker.once("exit", (code: number) => {
        ending.exited = true;
        if (!ending.asked) {
          resolve(new Error(`${THREAD} exited (code ${code})`));
        }
      });
    });
    let port: number;
    try {
      const started = await untilStarted<ReceiverStarted>(worker, {
        thread: THREAD,
        timeoutMs: START_MS_MAX,
      });
      port = started.port;
    } catch (err) {
      ending.asked = true;
      await worker.terminate().catch(() => 0);
      // Why it could not listen, as the thread said it: its caller names the receiver.
      throw err instanceof ThreadStartError && err.said ? new Error(err.reason) : err;
    }
    return new ReceiverThread(settings, { worker, port, fatal, ending });
  }

  /**
   * Stops listening (requests being answered get `graceMs`), closes the thread's connection and
   * ends it; resolves with the samples it journaled in all (0 when it could not say).
   */
  stop(graceMs = 1000): Promise<{ journaled: number }> {
    this.#stopping ??= (async () => {
      this.#ending.asked = true;
      if (this.#ending.exited) return { journaled: 0 };
      const stopped = await stopThread<ReceiverStopped, { graceMs: number }>(this.#worker, {
        ask: { graceMs },
        timeoutMs: graceMs + STOP_MS_MAX,
      });
      return { journaled: stopped?.journaled ?? 0 };
    })();
    return this.#stopping;
  }
}

/** Where the thread is in its end. */
interface Ending {
  /** Once a stop is asked (or the start failed): the thread's end is then no failure. */
  asked: boolean;
  exited: boolean;
}
