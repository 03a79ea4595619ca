/**
 * One worker thread of the step trials (step_trials.ts) and the copies of instances it holds: it
 * takes the steps posted to it one at a time, in order, once it is ready (its kinds loaded, which
 * takes a while on a busy machine and must not count against a step's deadline). Private to the
 * host folder.
 */
import type { Worker } from "node:worker_threads";
import { type LifecycleMessage, type ThreadStartError, untilStarted } from "../../threads/mod.ts";
import type { StepTrialAnswer, StepTrialAsk } from "./_step_trial_wire.ts";
import type { InputRecord } from "../../../protocol/mod.ts";
import type { Slot } from "../instances/mod.ts";

/** A step being tried, or waiting to be. */
export interface Trial {
  slot: Slot;
  pos: number;
  /** The position its instance's copy must be at before it (its previous input's). */
  prev: number;
  record: InputRecord;
  /** The id of its ask, once posted. */
  id: number;
  beganMs: number;
  timers: Array<ReturnType<typeof setTimeout>>;
  resolve(outcome: unknown): void;
}

/** What a lane tells its owner. */
export interface LaneEvents {
  answer(lane: TrialLane, answer: StepTrialAnswer): void;
  /** Its worker ended without being asked to (a step that ended its thread). */
  exit(lane: TrialLane, code: number): void;
  log(message: string): void;
}

/** A worker thread and its copies. */
export class TrialLane {
  /** The journal position of each instance's copy here. */
  readonly copies = new Map<string, number>();
  /** The steps posted to it, in order: the first is running. */
  readonly inFlight: Trial[] = [];
  /** Why its worker could not load the kinds, once it is ready (its steps then all fail). */
  loadError: string | undefined;
  #worker: Worker | undefined;
  #ready = false;
  /** Told once, when it is ready. */
  #whenReady: (() => void) | undefined;
  #ended = false;

  constructor(start: Promise<Worker>, events: LaneEvents) {
    start.then((w) => {
      if (this.#ended) return void w.terminate();
      this.#worker = w;
      w.on("message", (a: StepTrialAnswer | LifecycleMessage) => {
        if (!("type" in a)) events.answer(this, a);
      });
      w.on("exit", (code: number) => {
        this.#readyAfter(`its thread ended (exit code ${code}) as it loaded the kinds`);
        if (!this.#ended) events.exit(this, code);
      });
      w.on("error", (err: Error) => events.log(`step trials thread: ${err.message}`));
      // Its end before it is ready is said by its exit, above (an error comes before the exit).
      void untilStarted(w, { thread: "the step trials thread" }).then(
        () => this.#readyAfter(undefined),
        (err: ThreadStartError) => {
          if (err.said) this.#readyAfter(err.reason);
        },
      );
    }, (err) => {
      events.log(`cannot start a step trials thread: ${(err as Error).message}`);
      this.#readyAfter((err as Error).message);
      if (!this.#ended) events.exit(this, -1);
    });
  }

  /** Whether its worker is up, its kinds loaded; else `then` is called once it is. */
  ready(then: () => void): boolean {
    if (!this.#ready) this.#whenReady = then;
    return this.#ready;
  }

  /**
   * Its worker is ready, its kinds loaded (`loadError` undefined), or could not load them or is
   * gone (`loadError`: why): said to whoever waits. Once ready, it never keeps the process alive
   * (until then, what waits on it).
   */
  #readyAfter(loadError: string | undefined): void {
    if (this.#ready) return;
    this.#ready = true;
    this.loadError = loadError;
    this.#worker?.unref();
    this.#whenReady?.();
  }

  /** Posts a step to its worker, which must be ready. */
  post(ask: StepTrialAsk): void {
    this.#worker!.postMessage(ask);
  }

  /** Ends its worker, whatever it is doing (the one way to stop a step that never yields). */
  async end(): Promise<void> {
    this.#ended = true;
    await this.#worker?.terminate();
  }
}
