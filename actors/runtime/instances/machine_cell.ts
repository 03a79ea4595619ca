/**
 * An instance's machine without an xstate actor: its snapshot, moved by the machine logic's own
 * pure `transition` (xstate's `transition(logic, snapshot, event)`, with the actor scope made once
 * per machine rather than per call), its actions run and its emitted events handed on as an
 * actor runs and emits them. An actor holds, for each instance, an actor system, a mailbox, its
 * observers, listeners and bound closures, and a send goes through all of them; a channel that
 * takes a sample every 15 s needs only the snapshot between its events. The machine stays the
 * semantics: the same snapshots, the same events in the same order, the same error on the same
 * input.
 *
 * What an actor does that a cell does as well: the initial state's actions run at start, after the
 * snapshot is set; an event's emits reach the listener after its transition; an error in a
 * transition (or an action) leaves the machine in error, ignoring every later event, and is told
 * once; a machine in a final state takes no more events. What a cell does not do, as an instance's
 * machine may not use it (DESIGN.md: time comes in as journaled ticks, and a machine's only way out
 * is what it emits): delayed events, invoked or spawned actors, sends to other actors. Its actions'
 * `self` is one unstarted actor of the machine, shared by its cells.
 */
import {
  type AnyActorRef,
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type EventObject,
} from "xstate";
import { persistedSnapshot } from "./_persisted_snapshot.ts";

/** What a cell tells its owner: the events its machine emits, and the error it stops on. */
export interface MachineCellListener {
  emitted(event: EventObject): void;
  failed(err: unknown): void;
}

/** An action's executable form, as xstate hands it to an actor scope's executor. */
interface ExecutableAction {
  exec?: ((info: unknown, params: unknown) => void) | undefined;
  info: unknown;
  params: unknown;
}

/** The cell whose machine a shared scope works for (sends are synchronous, never nested). */
interface ScopeState {
  cell: MachineCell | undefined;
  /** Whether the cell's actions run as they come (an actor's running) or after the snapshot. */
  running: boolean;
}

/** Each machine's shared actor scope and the cell it works for now. */
const scopes = new WeakMap<AnyStateMachine, { scope: AnyActorScope; state: ScopeState }>();

function scopeOf(machine: AnyStateMachine, input: unknown) {
  let entry = scopes.get(machine);
  if (entry !== undefined) return entry;
  // The actions' `self`: an actor made, never started, as xstate's own transition() makes one.
  const self: AnyActorRef = createActor(machine, { input } as never);
  const state: ScopeState = { cell: undefined, running: false };
  const unsupported = (what: string) => () => {
    throw new Error(`Machine "${machine.id}" ${what}, which an instance's machine may not do`);
  };
  const scope = {
    self,
    id: self.id,
    sessionId: self.sessionId,
    logger: console.log,
    system: self.system,
    defer: (fn: () => void) => state.cell!.defer(fn),
    emit: (event: EventObject) => state.cell!.listener.emitted(event),
    stopChild: unsupported("stopped a child actor"),
    actionExecutor: (action: ExecutableAction) => {
      if (action.exec === undefined) return;
      if (state.running) action.exec(action.info, action.params);
      else state.cell!.defer(() => action.exec!(action.info, action.params));
    },
  };
  entry = { scope: scope as unknown as AnyActorScope, state };
  scopes.set(machine, entry);
  return entry;
}

/** A machine's snapshot, moved by its events without an actor. */
export class MachineCell {
  readonly #machine: AnyStateMachine;
  readonly listener: MachineCellListener;
  #snapshot: AnyMachineSnapshot;
  /** Actions and emits waiting for the snapshot to be set; made at the first (most events have
   *  none, and a host holds a cell per instance). */
  #deferred: Array<() => void> | undefined = undefined;
  #stopped = false;

  private constructor(
    machine: AnyStateMachine,
    listener: MachineCellListener,
    make: (scope: AnyActorScope) => AnyMachineSnapshot,
    input: unknown,
  ) {
    this.#machine = machine;
    this.listener = listener;
    const { scope, state } = scopeOf(machine, input);
    state.cell = this;
    state.running = false;
    try {
      this.#snapshot = make(scope);
    } catch (err) {
      this.#snapshot = { status: "error", output: undefined, error: err } as AnyMachineSnapshot;
    }
    this.#start(state);
    state.cell = undefined;
  }

  /** A cell in the machine's initial state for `input`, its entry actions run. */
  static start(
    machine: AnyStateMachine,
    input: unknown,
    listener: MachineCellListener,
  ): MachineCell {
    return new MachineCell(machine, listener, (s) => machine.getInitialSnapshot(s, input), input);
  }

  /** A cell in the state of a persisted snapshot (getPersistedSnapshot's). */
  static restore(
    machine: AnyStateMachine,
    persisted: unknown,
    input: unknown,
    listener: MachineCellListener,
  ): MachineCell {
    return new MachineCell(
      machine,
      listener,
      (s) => machine.restoreSnapshot(persisted as never, s) as AnyMachineSnapshot,
      input,
    );
  }

  /** As Actor.start: an initial error is told; else the deferred actions run. */
  #start(state: ScopeState): void {
    if (this.#snapshot.status === "error") {
      this.#fail(this.#snapshot.error);
      return;
    }
    if (this.#snapshot.status !== "done") {
      try {
        this.#machine.start?.(this.#snapshot);
      } catch (err) {
        this.#snapshot = { ...this.#snapshot, status: "error", error: err } as AnyMachineSnapshot;
        this.#fail(err);
        return;
      }
    }
    state.running = true;
    this.#update(this.#snapshot);
  }

  /** The current snapshot. */
  get snapshot(): AnyMachineSnapshot {
    return this.#snapshot;
  }

  /** The snapshot in the form a restore takes (xstate's `getPersistedSnapshot`'s). */
  persisted(): unknown {
    const s = this.#snapshot;
    return persistedSnapshot(s) ?? this.#machine.getPersistedSnapshot(s);
  }

  /** An action or emit to run once the snapshot is set (the actor scope's `defer`). */
  defer(fn: () => void): void {
    (this.#deferred ??= []).push(fn);
  }

  /** Sends `event`: the transition, its actions, its emits; a failure is told to the listener. */
  send(event: EventObject): void {
    if (this.#stopped) return;
    const { scope, state } = scopeOf(this.#machine, undefined);
    state.cell = this;
    state.running = true;
    let next: AnyMachineSnapshot;
    try {
      next = this.#machine.transition(this.#snapshot, event, scope);
    } catch (err) {
      state.cell = undefined;
      if (this.#deferred !== undefined) this.#deferred.length = 0;
      this.#snapshot = { ...this.#snapshot, status: "error", error: err } as AnyMachineSnapshot;
      this.#fail(err);
      return;
    }
    this.#update(next);
    state.cell = undefined;
  }

  /** Stops the machine: later events are ignored, as a stopped actor's are. */
  stop(): void {
    this.#stopped = true;
  }

  /** As Actor.update: the snapshot set, the deferred run (an error in one ends the machine). */
  #update(snapshot: AnyMachineSnapshot): void {
    this.#snapshot = snapshot;
    const deferred = this.#deferred;
    let fn: (() => void) | undefined;
    while (deferred !== undefined && (fn = deferred.shift()) !== undefined) {
      try {
        fn();
      } catch (err) {
        deferred.length = 0;
        this.#snapshot = { ...snapshot, status: "error", error: err } as AnyMachineSnapshot;
      }
    }
    if (this.#snapshot.status === "error") this.#fail(this.#snapshot.error);
    else if (this.#snapshot.status === "done") this.#stopped = true;
  }

  #fail(err: unknown): void {
    this.#stopped = true;
    this.listener.failed(err);
  }
}
