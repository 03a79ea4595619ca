/**
 * The lifecycle a troupe worker thread and the thread that started it speak, defined once: the
 * thread says it has started (with what its parent needs of it: a port, a heap limit) or that it
 * could not start and why; once started, a line for its parent's log, or that its work ended in
 * an error; and, asked to stop, that it has stopped (with its last figures). Everything else a
 * thread says (frames, health, answers to asks) is its own, in its own wire file, beside these.
 *
 * The thread's side (`ThreadLifecycle`) says each message at most once where once is meant, and
 * holds a stop asked while it starts until the start is over, so that a parent may ask at any
 * time. The parent's side waits for the start (`untilStarted`: an Error naming the thread and why
 * it could not start) and asks a thread to stop (`stopThread`). Messages between threads of one
 * process, not a wire: nothing here is encoded.
 */
import type { Worker } from "node:worker_threads";

/** Said once by a thread when it is up; `T` is what its parent needs of it. */
export type ThreadStarted<T extends object = Record<never, never>> = { type: "started" } & T;

/** Said once, instead of started, by a thread that cannot start: why, in one line. */
export interface ThreadFailed {
  type: "failed";
  message: string;
}

/** Said once by a started thread whose work ended in an error: why, in one line. */
export interface ThreadFatal {
  type: "fatal";
  message: string;
}

/** A line for the parent's log (the parent says which thread it came from). */
export interface ThreadLog {
  type: "log";
  message: string;
}

/** Asks a thread to stop; `T` says how (a grace period). */
export type ThreadStop<T extends object = Record<never, never>> = { type: "stop" } & T;

/** Said once by a thread that was asked to stop and has (its resources closed). */
export type ThreadStopped<T extends object = Record<never, never>> = { type: "stopped" } & T;

/** Every lifecycle message a thread says, with its started and stopped messages' fields. */
export type LifecycleMessage<
  S extends object = Record<never, never>,
  T extends object = Record<never, never>,
> = ThreadStarted<S> | ThreadFailed | ThreadFatal | ThreadLog | ThreadStopped<T>;

/** Where a thread's lifecycle messages go: its parentPort, or a port it was given. */
export interface LifecyclePort {
  postMessage(message: unknown): void;
}

/** Options of a `ThreadLifecycle`. */
export interface ThreadLifecycleOptions<P extends object> {
  /**
   * Stops the thread's work when its parent asks, once the start is over (started or failed),
   * and says `stopped` when done. Called at most once. None for a thread its parent ends without
   * asking (`worker.terminate()`).
   */
  stop?(ask: ThreadStop<P>): void;
}

/**
 * A thread's side of the lifecycle. `S`: the started message's fields; `P`: the stop's; `T`: the
 * stopped message's.
 */
export class ThreadLifecycle<
  S extends object = Record<never, never>,
  P extends object = Record<never, never>,
  T extends object = Record<never, never>,
> {
  readonly #port: LifecyclePort;
  readonly #stop: ((ask: ThreadStop<P>) => void) | undefined;
  /** Where the start is: under way, over and started, or over and failed. */
  #start: "starting" | "started" | "failed" = "starting";
  #fatal = false;
  /** The stop its parent asked for, and whether it has run. */
  #asked: ThreadStop<P> | undefined;
  #stopping = false;

  constructor(port: LifecyclePort, options: ThreadLifecycleOptions<P> = {}) {
    this.#port = port;
    this.#stop = options.stop;
  }

  /**
   * Takes a message from the parent: a stop is the lifecycle's (run now, or once the start is
   * over), and true is returned; anything else is the thread's own (false).
   */
  take(message: unknown): boolean {
    if ((message as { type?: unknown } | null)?.type !== "stop") return false;
    this.#asked ??= message as ThreadStop<P>;
    this.#runStop();
    return true;
  }

  /** Says the thread has started (once; not after `fail`), then runs a stop asked meanwhile. */
  start(fields: S): void {
    if (this.#start !== "starting") return;
    this.#start = "started";
    this.#port.postMessage({ ...fields, type: "started" } as ThreadStarted<S>);
    this.#runStop();
  }

  /**
   * Says the thread cannot go on: `failed` while it starts (then runs a stop asked meanwhile),
   * `fatal` once it has started. Said once: a later failure adds nothing its parent would read.
   */
  fail(message: string): void {
    if (this.#start === "starting") {
      this.#start = "failed";
      this.#port.postMessage({ type: "failed", message } satisfies ThreadFailed);
      return this.#runStop();
    }
    if (this.#start === "failed" || this.#fatal) return;
    this.#fatal = true;
    this.#port.postMessage({ type: "fatal", message } satisfies ThreadFatal);
  }

  /** A line for the parent's log. */
  log(message: string): void {
    this.#port.postMessage({ type: "log", message } satisfies ThreadLog);
  }

  /** Says the thread has stopped, with its last figures. */
  stopped(fields: T): void {
    this.#port.postMessage({ ...fields, type: "stopped" } as ThreadStopped<T>);
  }

  #runStop(): void {
    if (this.#asked === undefined || this.#start === "starting" || this.#stopping) return;
    this.#stopping = true;
    this.#stop?.(this.#asked);
  }
}

/**
 * Why a thread did not start, naming it; a caller whose own words name the thread takes `reason`.
 */
export class ThreadStartError extends Error {
  override name = "ThreadStartError";
  /** The thread, as its parent names it ("thread 2", "the step trials thread"). */
  readonly thread: string;
  /** Why, without the thread's name: what it said, or how it ended. */
  readonly reason: string;
  /** Whether `reason` is the thread's own `failed` message (else its end or the wait's). */
  readonly said: boolean;

  constructor(thread: string, reason: string, options: { said: boolean; cause?: unknown }) {
    super(`${thread}: ${reason}`, options.cause === undefined ? {} : { cause: options.cause });
    this.thread = thread;
    this.reason = reason;
    this.said = options.said;
  }
}

/** Options of `untilStarted`. */
export interface UntilStartedOptions {
  /** The thread as its errors name it ("thread 2", "the step trials thread"). */
  thread: string;
  /** The longest the wait lasts, ms (default: no limit). */
  timeoutMs?: number;
}

/**
 * Waits until `worker` says it has started, and resolves with what it said. Rejects with a
 * ThreadStartError naming the thread when it says it failed (its message), throws as it loads
 * (the error's message), exits first (its exit code) or says nothing within `timeoutMs`. Its
 * listeners are removed once it settles: the worker's other messages are its caller's.
 */
export function untilStarted<S extends object = Record<never, never>>(
  worker: Worker,
  options: UntilStartedOptions,
): Promise<ThreadStarted<S>> {
  const { thread, timeoutMs } = options;
  return new Promise((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    const fail = (reason: string, said: boolean, cause?: unknown) => {
      settle();
      reject(new ThreadStartError(thread, reason, { said, cause }));
    };
    const onMessage = (m: LifecycleMessage<S>) => {
      if (m?.type === "started") {
        settle();
        resolve(m);
      } else if (m?.type === "failed") fail(m.message, true);
    };
    const onError = (err: Error) => fail(err?.message ?? String(err), false, err);
    const onExit = (code: number) => fail(`exited (code ${code}) before it started`, false);
    const timer = timeoutMs === undefined
      ? undefined
      : setTimeout(() => fail(`did not start in ${timeoutMs} ms`, false), timeoutMs);
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}

/** Options of `stopThread`. */
export interface StopThreadOptions<P extends object> {
  /** The stop's fields (how to stop). */
  ask?: P;
  /** The longest the thread has to say it stopped before it is ended, ms (default: no limit). */
  timeoutMs?: number;
}

/**
 * Asks `worker` to stop, and ends it once it says it has: resolves with what it said, or with
 * undefined when it exited first, could not be asked or did not answer within `timeoutMs` (then
 * it is ended). Not for a worker that has exited already: its exit is not seen after the fact,
 * and without a `timeoutMs` the wait would not end.
 */
export function stopThread<
  T extends object = Record<never, never>,
  P extends object = Record<never, never>,
>(worker: Worker, options: StopThreadOptions<P> = {}): Promise<ThreadStopped<T> | undefined> {
  return new Promise((resolve) => {
    let said: ThreadStopped<T> | undefined;
    const done = () => {
      clearTimeout(cut);
      worker.off("message", onMessage);
      worker.off("exit", done);
      resolve(said);
    };
    const end = () => void worker.terminate().then(done, done);
    const onMessage = (m: LifecycleMessage<Record<never, never>, T>) => {
      if (m?.type !== "stopped") return;
      said = m;
      end();
    };
    const cut = options.timeoutMs === undefined ? undefined : setTimeout(end, options.timeoutMs);
    worker.once("exit", done);
    worker.on("message", onMessage);
    try {
      worker.postMessage({ ...(options.ask ?? {}), type: "stop" } as ThreadStop<P>);
    } catch {
      done();
    }
  });
}
