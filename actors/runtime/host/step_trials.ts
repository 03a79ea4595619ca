/**
 * A team's kinds run off the host's thread (`supervision.isolate_user_kinds`): each input of an
 * instance of those kinds is first applied on a worker thread, to a copy of the instance, under
 * the kind's step deadline; only once that step has returned does the host apply the input to the
 * instance itself. A step cannot be interrupted on the thread that runs it, but a worker thread
 * can be ended: a step past its deadline ends the worker (`worker.terminate()`), a fresh one is
 * started, and the host, which never ran the step, skips the input and goes on (deadline_skip.ts).
 * Meanwhile the host's thread serves /healthz, its NATS connection and its other instances, and
 * /healthz names the step that is taking long (`stuck`).
 *
 * The copies are made from the host's instances (their snapshots) when the worker has none at the
 * instance's position (a fresh worker, a restarted instance, a skipped input), and are otherwise
 * kept in step by the inputs themselves. A step runs twice, once on each thread: what this buys is
 * that a step reaches the host's thread only once it is known to return, within the deadline; a
 * kernel is deterministic, so the host's run takes what the worker's took. The built-in kinds keep
 * their single run on the host's thread, under the step watchdog (step_watch.ts).
 */
import type { InputRecord, StepOverrun } from "../../../protocol/mod.ts";
import type { Worker } from "node:worker_threads";
import { startWorker, workerModuleUrls } from "../../threads/mod.ts";
import type { Slot } from "../instances/mod.ts";
import { type Trial, TrialLane } from "./_trial_lane.ts";
import type { StepTrialAnswer, StepTrialAsk, StepTrialData } from "./_step_trial_wire.ts";

/** The trials thread's module. */
const TRIAL_THREAD = new URL("./_step_trial_thread.ts", import.meta.url);

/**
 * How long a step runs before /healthz names it and the log says so, ms: a step of a team's kind
 * is far shorter, and a second is as long as /healthz may take to answer.
 */
export const STUCK_AFTER_MS = 1000;

/**
 * A step running longer than STUCK_AFTER_MS, as /healthz names it: the fields an overrun records
 * (its kind, key, input's journal and source positions, time so far and deadline), without the
 * stream and host, which /healthz says its own way.
 */
export type StuckStep = Omit<StepOverrun, "stream" | "host">;

/**
 * How a trial ended: the step returned, threw (`error`), ended its thread (`exited`: why), ran
 * past its deadline, or was not tried as the host stops (its input journaled, for the next start).
 */
export type TrialOutcome =
  | { ok: true }
  | { ok: false; stopping: true }
  | { ok: false; error: string }
  | { ok: false; exited: string }
  | { ok: false; overrun: { elapsedMs: number; deadlineMs: number } };

/**
 * The modules a trials thread starts from, as a worker imports them (stepTrialModules): built by
 * a thread that can build them for a thread that cannot (a threaded host's main thread for its
 * host threads, which run from a bundle). Plain strings: they are posted to the thread.
 */
export interface StepTrialModules {
  /** The trials thread's module. */
  entry: string;
  /** The kinds module it loads, beside it. */
  kindsModule: string;
}

/**
 * The modules a trials thread of the kinds at `kindsModule` starts from: on Node from TypeScript
 * one bundle of the two (which only a thread running from the sources can build: a bundled
 * thread's own module URLs name files beside its bundle), elsewhere the modules themselves.
 */
export async function stepTrialModules(kindsModule: string | URL): Promise<StepTrialModules> {
  const [entry, kinds] = await workerModuleUrls([TRIAL_THREAD, new URL(kindsModule)]);
  return { entry: entry!.href, kindsModule: kinds!.href };
}

/** Options of `StepTrials.start`. */
export interface StepTrialsOptions {
  /** The URL of the module of the host's kinds (kinds_module.ts). */
  kindsModule: string | URL;
  /** The trials thread's modules, when built elsewhere (default: built here, from kindsModule). */
  modules?: StepTrialModules;
  /** The kinds whose steps are tried on the thread (a team's). */
  kinds: readonly string[];
  /** The step deadline of a kind, ms. */
  deadlineMs(kind: string): number;
  log(message: string): void;
}

/** Trials posted to a thread at most, in order: one runs, the others wait their turn there. */
export const IN_FLIGHT_MAX = 64;

/** The lanes set aside at most, each spinning on a step past STUCK_AFTER_MS: a bound on threads. */
export const ASIDE_MAX = 4;

/** The host's side of the trials threads. */
export class StepTrials {
  readonly #options: StepTrialsOptions;
  readonly #kinds: ReadonlySet<string>;
  readonly #entry: URL;
  readonly #data: StepTrialData;
  /** The lane taking steps, the one started to take over from it, and those set aside. */
  #main: TrialLane;
  #spare: TrialLane;
  readonly #aside = new Set<TrialLane>();
  readonly #queue: Trial[] = [];
  /** Each stream's trials not yet decided, and the last one's position (see `trial`). */
  readonly #open = new Map<string, { inst: unknown; pos: number; count: number }>();
  /** The trials of streams whose step is stuck, held back until it is decided. */
  readonly #held = new Map<string, { by: Trial; trials: Trial[] }>();
  /** Told of a stream whose step is stuck, its thread set aside. */
  #stuckListener: (stream: string) => void = () => {};
  #nextId = 1;
  #stopped = false;

  private constructor(options: StepTrialsOptions, entry: URL, data: StepTrialData, first: Worker) {
    this.#options = options;
    this.#kinds = new Set(options.kinds);
    this.#entry = entry;
    this.#data = data;
    this.#main = this.#lane(Promise.resolve(first));
    this.#spare = this.#lane();
  }

  /** Starts the trials threads. */
  static async start(options: StepTrialsOptions): Promise<StepTrials> {
    // One bundle for the thread and the kinds on Node from TypeScript: they share every module.
    const modules = options.modules ?? await stepTrialModules(options.kindsModule);
    const entry = new URL(modules.entry);
    const data: StepTrialData = { stepTrials: true, kindsModule: modules.kindsModule };
    // The first started here, and ready (its kinds loaded) before the host takes input: a
    // thread that cannot start fails the host's launch, saying why.
    const first = await startWorker(entry, { workerData: data });
    const trials = new StepTrials(options, entry, data, first);
    const main = trials.#main;
    await new Promise<void>((resolve) => void (main.ready(resolve) && resolve()));
    if (main.loadError !== undefined) {
      await trials.stop();
      throw new Error(`Cannot start the step trials thread: ${main.loadError}`);
    }
    return trials;
  }

  /** Whether the steps of `kind` are tried on the thread. */
  isolates(kind: string): boolean {
    return this.#kinds.has(kind);
  }

  /** Tries `slot`'s step on the input journaled at `pos` (its instance is at the one before). */
  trial(slot: Slot, record: InputRecord, pos: number): Promise<TrialOutcome> {
    if (this.#stopped) return Promise.resolve({ ok: false, stopping: true });
    // Its copy must have taken the input before it: one still being tried, or the instance's.
    const stream = slot.stream, inst = slot.inst;
    const open = this.#open.get(stream);
    const prev = open !== undefined && open.inst === inst ? open.pos : inst?.pos ?? 0;
    if (open !== undefined && open.inst === inst) [open.pos, open.count] = [pos, open.count + 1];
    else this.#open.set(stream, { inst, pos, count: 1 });
    return new Promise((resolve) => {
      this.#queue.push({ slot, pos, prev, record, resolve, id: 0, beganMs: 0, timers: [] });
      this.#next();
    });
  }

  /** Tells `listener` of each stream whose step is stuck, its thread set aside. */
  whenStuck(listener: (stream: string) => void): void {
    this.#stuckListener = listener;
  }

  /** The steps running past STUCK_AFTER_MS. */
  stuck(): StuckStep[] {
    const now = performance.now();
    const found: StuckStep[] = [];
    for (const lane of [this.#main, ...this.#aside]) {
      const t = lane.inFlight[0];
      if (t === undefined || now - t.beganMs < STUCK_AFTER_MS) continue;
      found.push({
        kind: t.slot.def.kind,
        key: t.slot.key,
        pos: t.pos,
        src_pos: t.record.srcPos,
        elapsed_ms: Math.round(now - t.beganMs),
        deadline_ms: this.#options.deadlineMs(t.slot.def.kind),
      });
    }
    return found;
  }

  /** Ends the threads; trials running or waiting end untried (`stopping`). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const lanes = [this.#main, this.#spare, ...this.#aside];
    const held = [...this.#held.values()].flatMap((h) => h.trials);
    this.#held.clear();
    const posted = lanes.flatMap((l) => l.inFlight.splice(0));
    for (const t of [...posted, ...held, ...this.#queue.splice(0)]) {
      this.#finish(t, { ok: false, stopping: true });
    }
    await Promise.all(lanes.map((l) => l.end()));
  }

  #lane(started = startWorker(this.#entry, { workerData: this.#data })): TrialLane {
    return new TrialLane(started, {
      answer: (lane, a) => this.#answered(lane, a),
      exit: (lane, code) => this.#lost(lane, `exit code ${code}`),
      log: this.#options.log,
    });
  }

  /**
   * Posts the trials waiting to the main lane, up to IN_FLIGHT_MAX: its thread takes them in
   * order, so only the first is running; each is timed from when the one before it is answered.
   */
  #next(): void {
    const lane = this.#main;
    if (this.#stopped || this.#queue.length === 0 || !lane.ready(() => this.#next())) return;
    if (lane.loadError !== undefined) {
      // A thread that cannot take steps: it is replaced, and a step fails (its instance
      // restarts, and stops after its failures), so that threads that never load end.
      this.#options.log(`a step trials thread cannot take steps: ${lane.loadError}`);
      this.#finish(this.#queue.shift()!, { ok: false, error: lane.loadError });
      return this.#drop(lane);
    }
    while (this.#queue.length > 0 && lane.inFlight.length < IN_FLIGHT_MAX) {
      const t = this.#queue.shift()!;
      const held = this.#held.get(t.slot.stream);
      if (held !== undefined) {
        held.trials.push(t); // behind its stream's stuck step
        continue;
      }
      const inst = t.slot.inst;
      if (inst === undefined || inst.pos >= t.pos) {
        this.#finish(t, { ok: false, error: `${t.slot.stream} is not at the input` });
        continue;
      }
      const ask: StepTrialAsk = {
        id: this.#nextId++,
        kind: t.slot.def.kind,
        key: t.slot.key,
        pos: t.pos,
        // A copy: the payload may be a view into a larger buffer, which posting copies whole.
        record: { ...t.record, payload: t.record.payload.slice() },
      };
      if (lane.copies.get(t.slot.stream) !== t.prev) ask.snapshot = inst.snapshot();
      lane.copies.set(t.slot.stream, t.pos); // where it is once it has taken the step
      t.id = ask.id;
      lane.inFlight.push(t);
      if (lane.inFlight.length === 1) this.#clock(lane, t);
      lane.post(ask);
    }
  }

  /** Starts `t`'s clocks: it is the step its lane's thread runs now. */
  #clock(lane: TrialLane, t: Trial): void {
    const deadlineMs = this.#options.deadlineMs(t.slot.def.kind);
    t.beganMs = performance.now();
    t.timers.push(setTimeout(() => this.#overran(lane, t, deadlineMs), deadlineMs));
    if (deadlineMs > STUCK_AFTER_MS) {
      t.timers.push(setTimeout(() => this.#stuckOn(lane, t, deadlineMs), STUCK_AFTER_MS));
    }
  }

  #answered(lane: TrialLane, answer: StepTrialAnswer): void {
    const t = lane.inFlight[0];
    if (t === undefined || t.id !== answer.id) return; // one taken back from a lane set aside
    lane.inFlight.shift();
    if (answer.error !== undefined) lane.copies.delete(t.slot.stream); // the thread dropped it
    this.#finish(t, answer.error === undefined ? { ok: true } : { ok: false, error: answer.error });
    if (this.#aside.delete(lane)) return void lane.end();
    const head = lane.inFlight[0];
    if (head !== undefined) this.#clock(lane, head);
    if (lane === this.#main) this.#next();
  }

  /**
   * A step past STUCK_AFTER_MS: said in the log, and its lane set aside to spin until its deadline
   * while the spare takes the next steps (those posted behind it too), so that one stuck step
   * holds the others up no longer.
   */
  #stuckOn(lane: TrialLane, t: Trial, deadlineMs: number): void {
    if (lane.inFlight[0] !== t) return;
    this.#options.log(
      `${t.slot.stream}: a step has run for ${STUCK_AFTER_MS} ms on its input at position ` +
        `${t.pos} (source position ${t.record.srcPos}); its thread is ended at ${deadlineMs} ms`,
    );
    if (lane !== this.#main || this.#aside.size >= ASIDE_MAX || this.#stopped) return;
    this.#aside.add(lane);
    this.#takeBack(lane);
    this.#held.set(t.slot.stream, { by: t, trials: [] });
    this.#stuckListener(t.slot.stream);
    this.#main = this.#spare;
    this.#spare = this.#lane();
    this.#next();
  }

  /** Puts the trials posted to `lane` behind its running one back at the head of the queue. */
  #takeBack(lane: TrialLane): void {
    this.#queue.unshift(...lane.inFlight.splice(1));
  }

  /**
   * `t`'s deadline timer fired. A timer may fire up to a millisecond early by the monotonic clock
   * (the event loop keeps whole milliseconds): then it is set again for what is left, so that an
   * overrun always ran its whole deadline.
   */
  #overran(lane: TrialLane, t: Trial, deadlineMs: number): void {
    if (lane.inFlight[0] !== t) return;
    const elapsed = performance.now() - t.beganMs;
    if (elapsed < deadlineMs) {
      const left = Math.ceil(deadlineMs - elapsed);
      return void t.timers.push(setTimeout(() => this.#overran(lane, t, deadlineMs), left));
    }
    const elapsedMs = Math.round(elapsed);
    this.#drop(lane);
    this.#finish(t, { ok: false, overrun: { elapsedMs, deadlineMs } });
  }

  /** A lane whose worker ended by itself: its running step ended it, and it is replaced. */
  #lost(lane: TrialLane, exited: string): void {
    const t = lane.inFlight[0];
    this.#drop(lane);
    if (t !== undefined) this.#finish(t, { ok: false, exited });
  }

  /** Ends a lane, whatever it is doing, and puts another in its place (the running step left). */
  #drop(lane: TrialLane): void {
    this.#takeBack(lane);
    lane.inFlight.length = 0;
    void lane.end();
    if (this.#stopped) return;
    if (this.#aside.delete(lane)) return;
    if (lane === this.#spare) this.#spare = this.#lane();
    if (lane !== this.#main) return;
    this.#main = this.#spare;
    this.#spare = this.#lane();
    queueMicrotask(() => this.#next());
  }

  #finish(t: Trial, outcome: TrialOutcome): void {
    for (const timer of t.timers) clearTimeout(timer);
    t.timers.length = 0;
    const stream = t.slot.stream;
    const open = this.#open.get(stream);
    if (open !== undefined && --open.count === 0) this.#open.delete(stream);
    t.resolve(outcome);
    const held = this.#held.get(stream);
    if (held !== undefined && held.by === t) {
      // Its stream's stuck step is decided: the steps held behind it go first, in order.
      this.#held.delete(stream);
      this.#queue.unshift(...held.trials);
      queueMicrotask(() => this.#next());
    }
  }
}
