/**
 * A step's deadline: every step a host applies live runs under a time budget of its kind
 * (`supervision.step_deadline_ms`). A step cannot be interrupted on the thread that runs it, so a
 * watchdog thread (_step_watchdog.ts) follows the host's thread: the host writes, into memory the
 * two threads share, when the step began and which instance and input it is, and clears it when
 * the step returns. A step past its deadline (an endless loop in a team's kind) makes the
 * watchdog write what it was to `step_overrun.json` in the data directory, say so on stderr and
 * end the process; the host's next start skips that input, journals the skip, sends it to
 * `troupe.dlq.deadline` naming the kind, key, input and time spent, and counts it
 * (`troupe_step_deadline_overruns_total{kind}`). So a step that never returns ends in a restart
 * that goes on after it, instead of a host spinning with no word.
 *
 * Cost on the hot path: four numbers written to shared memory per step. An instance is named to
 * the watchdog as its first step begins, its description written to memory the threads share
 * (_watch_names.ts), not sent in a message: a fleet's first round makes hundreds of thousands of
 * instances, and a host's start recovers as many, most of which take no step until their next
 * input (a restored instance that never steps is never named).
 */
import { MessageChannel, type MessagePort, type Worker } from "node:worker_threads";
import { startWorker } from "../../threads/mod.ts";
import type { Slot } from "../instances/mod.ts";
import { NamesWriter, type WatchedInstance } from "./_watch_names.ts";

/** The watchdog's module. */
const WATCHDOG = new URL("./_step_watchdog.ts", import.meta.url);

/**
 * `performance.timeOrigin`, read once: the getter makes a number object at each read, and a step
 * begins at every input.
 */
const TIME_ORIGIN_MS = performance.timeOrigin;

/** What the watchdog is started with. */
export interface StepWatchdogData {
  /** Shared: when the step began (ms since the epoch; 0: none), the instance's id, pos, srcPos. */
  cell: SharedArrayBuffer;
  /** Where an overrun is written before the process ends. */
  file: string;
  hostId: string;
  /** Where it is told of instances, when not by its parent (a threaded host's thread). */
  port?: MessagePort;
}

/**
 * A watchdog started by a threaded host's main thread for one of its host threads, which cannot
 * start one itself (it runs from a bundle): the cell the thread writes and the port it names its
 * instances on, handed to the thread (`StepWatch.attach`).
 */
export interface StepWatchHandle {
  cell: SharedArrayBuffer;
  port: MessagePort;
}

/** Options of `StepWatch.start`. */
export interface StepWatchOptions {
  /** Where an overrun is written (`<data_dir>/step_overrun.json`). */
  file: string;
  hostId: string;
  /** The step deadline of a kind, ms. */
  deadlineMs(kind: string): number;
}

/** What the watches of one watchdog share: its cell, where instances are named, their ids. */
interface SharedWatch {
  cell: Float64Array;
  /** The watchdog's worker, or a port to it: where the logs instances are named in are sent. */
  named: Worker | MessagePort;
  /** Where instances are named to the watchdog (_watch_names.ts). */
  names: NamesWriter;
  deadlineMs: (kind: string) => number;
  /** The next instance id: unique across the watches of the watchdog. */
  nextId: number;
}

/** The host's side of the step watchdog. */
export class StepWatch {
  readonly #shared: SharedWatch;
  /** The host named with each instance, for a watch of one of several (`forHost`). */
  readonly #host: string | undefined;

  private constructor(shared: SharedWatch, host?: string) {
    this.#shared = shared;
    this.#host = host;
  }

  static #of(
    cell: SharedArrayBuffer,
    named: Worker | MessagePort,
    deadlineMs: (kind: string) => number,
  ): StepWatch {
    const names = new NamesWriter(named);
    return new StepWatch({ cell: new Float64Array(cell), named, names, deadlineMs, nextId: 1 });
  }

  /** Starts the watchdog thread. */
  static async start(options: StepWatchOptions): Promise<StepWatch> {
    const shared = new SharedArrayBuffer(4 * 8);
    const data: StepWatchdogData = { cell: shared, file: options.file, hostId: options.hostId };
    const worker = await startWorker(WATCHDOG, { workerData: data });
    worker.unref(); // it never keeps the process alive
    return StepWatch.#of(shared, worker, options.deadlineMs);
  }

  /**
   * Starts a watchdog for a thread (a threaded host's main thread does): its handle goes to the
   * thread, whose host attaches to it; `stop` ends it.
   */
  static async startFor(
    options: Omit<StepWatchOptions, "deadlineMs">,
  ): Promise<{ handle: StepWatchHandle; stop(): Promise<void> }> {
    const cell = new SharedArrayBuffer(4 * 8);
    const { port1, port2 } = new MessageChannel();
    const data: StepWatchdogData = {
      cell,
      file: options.file,
      hostId: options.hostId,
      port: port1,
    };
    const worker = await startWorker(WATCHDOG, { workerData: data, transferList: [port1] });
    worker.unref();
    return { handle: { cell, port: port2 }, stop: () => worker.terminate().then(() => {}) };
  }

  /** The watch of a thread's host over the watchdog its main thread started (`startFor`). */
  static attach(handle: StepWatchHandle, deadlineMs: (kind: string) => number): StepWatch {
    handle.port.unref(); // it never keeps the thread alive
    return StepWatch.#of(handle.cell, handle.port, deadlineMs);
  }

  /**
   * The watch of one of several hosts on this thread that share this watchdog (a leased host's
   * partitions): its instances are named with `host`, which an overrun then records, so that the
   * input is skipped by whichever host next holds that partition. Its `stop` does nothing: the
   * watchdog is this watch's.
   */
  forHost(host: string): StepWatch {
    return new StepWatch(this.#shared, host);
  }

  /**
   * Notes that `slot`'s step on the input at `pos` (source position `srcPos`) begins; names the
   * slot to the watchdog first if it was not yet, so that the watchdog can say what it was even
   * if this first step never returns. `nowMs`: `performance.now()`, where the caller has just
   * read it.
   */
  begin(slot: Slot, pos: number, srcPos: number, nowMs = performance.now()): void {
    if (slot.watchId === 0) this.#shared.names.write(this.#described(slot));
    const cell = this.#shared.cell;
    cell[1] = slot.watchId;
    cell[2] = pos;
    cell[3] = srcPos;
    cell[0] = TIME_ORIGIN_MS + nowMs;
  }

  /** Notes that the step returned (or threw). */
  end(): void {
    this.#shared.cell[0] = 0;
  }

  /**
   * Ends the watchdog thread (or, attached, lets go of it: its main thread ends it); a watch of
   * one host of several (`forHost`) leaves it to the watch it came from.
   */
  async stop(): Promise<void> {
    if (this.#host !== undefined) return;
    const named = this.#shared.named;
    if ("terminate" in named) await named.terminate();
    else named.close();
  }

  /** Gives `slot` its watch id and says what the watchdog is told of it. */
  #described(slot: Slot): WatchedInstance {
    const shared = this.#shared;
    slot.watchId = shared.nextId++;
    return {
      id: slot.watchId,
      stream: slot.stream,
      kind: slot.def.kind,
      key: slot.key,
      deadlineMs: shared.deadlineMs(slot.def.kind),
      ...(this.#host === undefined ? {} : { host: this.#host }),
    };
  }
}
