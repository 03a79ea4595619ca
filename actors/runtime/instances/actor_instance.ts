/**
 * One actor instance, `(kind, key)`: its kernel state, its xstate actor, and the positions of what
 * it has applied. It applies inputs and says what to publish; it does no I/O itself, so the host
 * (or the simulator, or `troupe replay`) decides where inputs come from and where outputs go.
 */
import type { AnyStateMachine, EventObject } from "xstate";
import {
  type AnyActorDefinition,
  decodeEnvelope,
  decodeFrame,
  decodeInputRecord,
  decodeValue,
  encodeColumns,
  encodeEventEnvelope,
  encodeOutputColumns,
  encodeValue,
  type Envelope,
  findingSubject,
  type FrameText,
  type InputRecord,
  InvariantError,
  isIncidentKind,
  isWarmupId,
  outputId,
  outSubject,
  reusingBytes,
  type SampleFrame,
} from "../../../protocol/mod.ts";
import type { DecodedFrame } from "./frame_decoder.ts";
import { InputIdWindow } from "./input_id_window.ts";
import { MachineCell, type MachineCellListener } from "./machine_cell.ts";
import { STAGE, type StageTrace } from "./stage_trace.ts";
import { sharedConfig, withSharedConfig } from "./shared_configs.ts";

/** A seed's envelope at most (journaled by the host itself, so above the bus's message cap). */
export const SEED_BYTES_MAX = 64 << 20;

/** A message an instance asks to publish. */
export interface Output {
  subject: string;
  id: string;
  data: Uint8Array;
  /** The event's type, for events (per-sample column frames have none). */
  type?: string;
  /**
   * Whether it is a finding (an event of a registered finding type), whose subject is then
   * `troupe.finding.<type>.<key>` (findingSubject), not its actor's output subject.
   */
  finding?: true;
}

/** The persisted parts of an instance (see SnapshotStore). */
export interface InstanceSnapshot {
  pos: number;
  srcPos: number;
  machine: unknown;
  kernel: Uint8Array;
  config: unknown;
  /**
   * The inputs applied most recently, oldest first, as a saved window (their fingerprints,
   * protocol/input_id_fingerprint.ts; absent: none remembered).
   */
  ids?: Uint8Array;
}

/** The stream name of an instance: `<kind>/<key>`. */
export function streamOf(kind: string, key: string): string {
  return `${kind}/${key}`;
}

/** Splits a stream name into kind and key. */
export function parseStream(stream: string): { kind: string; key: string } | undefined {
  const i = stream.indexOf("/");
  if (i <= 0) return undefined;
  return { kind: stream.slice(0, i), key: stream.slice(i + 1) };
}

/** Options of `apply`. */
export interface ApplyOptions {
  /** False while replaying a journal: the state changes, but no output is encoded. */
  outputs?: boolean;
  /** Marks the kernel, machine and encoding stages of a traced frame (see stage_trace.ts). */
  trace?: StageTrace;
}

/** Raised when an instance fails to apply an input (a bug in a kernel or machine). */
export class ApplyError extends Error {
  override name = "ApplyError";
  readonly pos: number;
  constructor(message: string, pos: number, options?: { cause?: unknown }) {
    super(message, options);
    this.pos = pos;
  }
}

/**
 * Each kernel's last result, which its next step may write into (Kernel.step's `reuse`): one per
 * kernel for every instance in this thread, as frames are applied one at a time and each result
 * is done with before its apply returns. For the anomaly kernel it spares an ArrayBuffer of 24
 * bytes a sample per frame, which V8 frees only in a collection.
 */
const spentResults = new WeakMap<object, unknown>();

/** An actor instance. */
export class ActorInstance {
  readonly def: AnyActorDefinition;
  readonly key: string;
  readonly stream: string;
  /** The journal position of the last input applied (or skipped). */
  pos = 0;
  /** The source position of the last input applied (0 for sources without positions). */
  srcPos = 0;
  /** Inputs applied since the last snapshot. */
  sinceSnapshot = 0;
  /** Inputs passed over because their id was applied already (a count for metrics). */
  duplicates = 0;
  /**
   * Host time (ms) before which the host's ticker need not look at this instance: the ticker sets
   * it from the tick the instance waits for (ticker.ts), and a position that moves sets it back to
   * 0, as what the instance waits for may have changed with it.
   */
  lookAfterMs = 0;
  config: unknown;
  #state: unknown;
  #ids: InputIdWindow;
  /** The machine, moved without an actor (machine_cell.ts). */
  #machine: MachineCell;
  /** What the machine emitted and the error it stopped on (its cell's listener). */
  readonly #told = new MachineTold();
  /** Set while replaying: outputs were published when the input was first applied. */
  #quiet = false;
  /** The stage trace of the input being applied, if one is on. */
  #trace: StageTrace | undefined;
  readonly #outSubject: string;

  /** `ids`: a saved window of the inputs applied most recently (none: an empty window). */
  private constructor(def: AnyActorDefinition, key: string, config: unknown, ids?: Uint8Array) {
    this.def = def;
    this.key = key;
    this.stream = streamOf(def.kind, key);
    this.config = config;
    this.#outSubject = outSubject(def.kind, key);
    this.#state = undefined;
    this.#ids = InputIdWindow.restoring(ids, this.stream);
    this.#machine = undefined as unknown as MachineCell;
  }

  /** A new instance with `config`. */
  static create(def: AnyActorDefinition, key: string, config: unknown): ActorInstance {
    const inst = new ActorInstance(def, key, config);
    inst.#state = def.kernel.init(config, key);
    inst.#startMachine(undefined);
    return inst;
  }

  /** An instance restored from a snapshot. */
  static restore(def: AnyActorDefinition, key: string, snap: InstanceSnapshot): ActorInstance {
    // The host's own configuration object where the snapshot's equals it (shared_configs.ts).
    const config = sharedConfig(def, snap.config);
    const inst = new ActorInstance(def, key, config, snap.ids);
    const kernel = def.kernel;
    // A fresh array for a kernel that may keep its bytes; a view held elsewhere is not its own.
    inst.#state = kernel.load(
      kernel.loadsCopy === true ? snap.kernel : new Uint8Array(snap.kernel),
    );
    inst.#startMachine(
      config === snap.config ? snap.machine : withSharedConfig(snap.machine, config, snap.config),
    );
    inst.pos = snap.pos;
    inst.srcPos = snap.srcPos;
    return inst;
  }

  #startMachine(snapshot: unknown) {
    const input = { key: this.key, config: this.config };
    const machine = this.def.machine as AnyStateMachine;
    this.#machine = snapshot === undefined
      ? MachineCell.start(machine, input, this.#told)
      : MachineCell.restore(machine, snapshot, input, this.#told);
  }

  /** The machine's current state value (for inspection and health). */
  get machineState(): unknown {
    return this.#machine.snapshot.value;
  }

  /** The kernel state (for inspection and tests). */
  get kernelState(): unknown {
    return this.#state;
  }

  /**
   * Captures everything needed to restore this instance, detached from live objects; or, when
   * `detached` is false, for a caller that encodes it before the instance applies anything more,
   * the machine's persisted state and the kernel's save as they are, which may share objects and
   * bytes with the live ones (no copy of either made), and the bytes made for it (the id window's,
   * and the kernel's when they are made afresh: `savesFresh`) carved from a region the next such
   * snapshot writes over (`reusingBytes`), so that a stop's snapshots make no buffers.
   */
  snapshot(detached = true): InstanceSnapshot {
    const persisted = this.#machine.persisted();
    const machine = detached ? decodeValue(encodeValue(persisted)) : persisted;
    const kernel = this.def.kernel, fresh = kernel.savesFresh === true;
    let saved: Uint8Array | undefined, ids: Uint8Array;
    if (detached) {
      saved = kernel.save(this.#state);
      ids = this.#ids.save();
    } else {
      ids = reusingBytes(() => {
        if (fresh) saved = kernel.save(this.#state);
        return this.#ids.save();
      });
      // A kernel whose bytes may be its own keeps them out of the region.
      saved ??= kernel.save(this.#state);
    }
    return {
      pos: this.pos,
      srcPos: this.srcPos,
      machine,
      kernel: fresh || !detached ? saved! : saved!.slice(),
      config: this.config,
      ids,
    };
  }

  /** Whether the input of envelope id `id` is among those applied most recently (its id window). */
  hasApplied(id: string): boolean {
    return this.#ids.has(id);
  }

  /**
   * Starts keeping the ids of applied inputs that the instance's window of ids drops, for a state
   * capture (`capturedIds`), until `endKeepingDroppedIds`; what it decides is unchanged.
   */
  keepDroppedIds(): void {
    this.#ids.keepDropped();
  }

  /** Ends one `keepDroppedIds`. */
  endKeepingDroppedIds(): void {
    this.#ids.endKeepingDropped();
  }

  /**
   * The ids of the inputs applied most recently and of those dropped since `keepDroppedIds`,
   * saved (oldest first), or undefined when more were dropped than a window keeps.
   */
  capturedIds(): Uint8Array | undefined {
    return this.#ids.saveWithDropped();
  }

  /** Stops the machine. */
  stop(): void {
    this.#machine.stop();
  }

  /**
   * Applies one journaled record at position `pos`: a frame (already decoded at the edge when
   * `decoded` is given), a control message, or a tick. Returns what to publish. An input whose
   * envelope id the instance applied recently is consumed without being applied (`duplicates`).
   */
  apply(
    record: InputRecord,
    pos: number,
    decoded?: DecodedFrame,
    options: ApplyOptions = {},
  ): Output[] {
    this.#checkNext(pos);
    this.#quiet = options.outputs === false;
    this.#trace = options.trace;
    try {
      // An input applied recently (its id seen) is passed over: consumed, nothing applied.
      let outputs: Output[];
      switch (record.kind) {
        case "frame":
          outputs = this.#frameInput(record, decoded);
          break;
        case "ctl":
          outputs = this.#ctlInput(record);
          break;
        case "tick":
          outputs = this.#tickInput(record);
          break;
        case "seed":
          outputs = this.#seedInput(record);
          break;
        default:
          outputs = [];
      }
      this.skip(pos, record.srcPos);
      return outputs;
    } catch (err) {
      this.#told.events.length = 0;
      throw new ApplyError(
        `Actor ${this.stream} failed to apply input ${pos}: ${(err as Error).message ?? err}`,
        pos,
        { cause: err },
      );
    }
  }

  #seen(id: string): boolean {
    if (!this.#ids.has(id)) return false;
    this.duplicates++;
    return true;
  }

  /** A sample frame, decoded at the edge or here. */
  #frameInput(
    record: InputRecord,
    decoded: DecodedFrame | undefined,
  ): Output[] {
    const { envelope, frame } = decoded ?? decodeFrame(record.payload);
    if (this.#seen(envelope.id)) return [];
    const outputs = this.#applyFrame(envelope, frame, decoded?.text, record.payload);
    this.#ids.add(envelope.id);
    return outputs;
  }

  /** A control message: the kind's configuration, changed. */
  #ctlInput(record: InputRecord): Output[] {
    const envelope = decodeEnvelope(record.payload);
    if (this.#seen(envelope.id)) return [];
    this.config = this.def.parseConfig(envelope.body, this.config, `ctl.${this.def.kind}`);
    this.def.kernel.configure?.(this.#state, this.config);
    this.#send({ type: "config", config: this.config });
    const outputs = this.#drain(envelope.id, envelope.ts);
    this.#ids.add(envelope.id);
    return outputs;
  }

  /** A clock tick (ticks are journaled once per host, so they carry no id to check). */
  #tickInput(record: InputRecord): Output[] {
    const envelope = decodeEnvelope(record.payload);
    const def = this.def;
    // What the machine would only emit goes straight to the outbox (see tickEmits).
    const emits = def.tickEmits?.(this.#state, envelope.ts, {
      key: this.key,
      machineState: this.#machine.snapshot.value,
    });
    if (emits) {
      for (const e of emits) this.#told.events.push(e);
    } else {
      const event = def.tickEvent
        ? def.tickEvent(this.#state, envelope.ts)
        : { type: "tick", ts: envelope.ts };
      if (event) this.#send(event);
    }
    return this.#drain(envelope.id, envelope.ts);
  }

  /** History loaded from outside the bus (see Host.seed). */
  #seedInput(record: InputRecord): Output[] {
    const envelope = decodeEnvelope(record.payload, { messageBytesMax: SEED_BYTES_MAX });
    if (this.#seen(envelope.id)) return [];
    if (!this.def.seed) throw new Error(`kind "${this.def.kind}" takes no seeds`);
    this.def.seed(this.#state, envelope.body);
    this.#ids.add(envelope.id);
    return [];
  }

  /** Marks `pos` as consumed without applying it (a poison input moved to the dead letters). */
  skip(pos: number, srcPos: number): void {
    this.#checkNext(pos);
    this.pos = pos;
    this.lookAfterMs = 0;
    if (srcPos > this.srcPos) this.srcPos = srcPos;
    this.sinceSnapshot++;
  }

  /** A journal's positions only rise: a record handed again or out of order would fold silently
   *  into a state no replay gives. */
  #checkNext(pos: number): void {
    if (pos <= this.pos) handedOutOfOrder(this.stream, pos, this.pos);
  }

  /** Decodes a journal record and applies it. */
  applyBytes(bytes: Uint8Array, pos: number): Output[] {
    return this.apply(decodeInputRecord(bytes), pos);
  }

  /**
   * `text`, where the edge wrote the frame's message `input`: where it holds the frame's id's and
   * channel's bytes (DecodedFrame.text).
   */
  #applyFrame(
    envelope: Envelope,
    frame: SampleFrame,
    text: FrameText | undefined,
    input: Uint8Array,
  ): Output[] {
    const def = this.def;
    const trace = this.#trace;
    // Everything below reads the result before this returns (the columns are encoded, the
    // machine's event copies its numbers), so the next frame of this kind may reuse its buffers.
    const result = def.kernel.step(this.#state, frame, spentResults.get(def.kernel));
    spentResults.set(def.kernel, result);
    const machineState = this.#machine.snapshot.value;
    // What the machine would only emit goes straight to the outbox (see frameEmits).
    const emits = def.frameEmits?.(result, { key: this.key, machineState });
    const event = emits ? undefined : def.frameEvent(result, frame, machineState, this.config);
    if (emits) { for (const e of emits) this.#told.events.push(e); }
    trace?.mark(STAGE.kernel);
    // Made at its size where there are columns (most frames: one output), not grown from empty,
    // which allocates room for 16.
    let outputs: Output[] | undefined;
    // A warm-up input (a series' past) is learned from; what it scored is not published.
    const warmup = isWarmupId(envelope.id);
    if (def.columns && !this.#quiet && !warmup) {
      const cols = def.columns(result, frame, this.key);
      if (cols) {
        const id = outputId(envelope.id, def.kind, this.key, "c");
        // The edge's message holds the strings of an output of the channel's own instance.
        const copied = text !== undefined &&
          id.length === envelope.id.length + def.kind.length + 3 &&
          cols.channel === this.key && frame.channel === this.key;
        outputs = [{
          subject: this.#outSubject,
          id,
          data: copied
            ? encodeOutputColumns(def.kind, cols, input, text)
            : encodeColumns(cols, { id, src: this.stream, cause: envelope.id }),
        }];
      }
      trace?.mark(STAGE.encoding);
    }
    if (event) this.#send(event);
    trace?.mark(STAGE.machine);
    const events = this.#drain(envelope.id, envelope.ts, warmup);
    trace?.mark(STAGE.encoding);
    if (outputs === undefined) return events;
    for (let i = 0; i < events.length; i++) outputs.push(events[i]!);
    return outputs;
  }

  #send(event: EventObject & Record<string, unknown>) {
    this.#machine.send(event);
    const told = this.#told;
    if (told.error !== undefined) {
      const err = told.error;
      told.error = undefined;
      throw err;
    }
  }

  /** The outbox's events as outputs; a warm-up input's findings are dropped (warmup_input.ts). */
  #drain(inputId: string, inputTs: number, warmup = false): Output[] {
    const outbox = this.#told.events;
    if (outbox.length === 0) return [];
    if (this.#quiet) {
      this.#clearOutbox();
      return [];
    }
    const outputs: Output[] = [];
    for (let i = 0; i < outbox.length; i++) {
      const event = outbox[i]!;
      if (warmup && isIncidentKind(event.type)) continue;
      const ts = event.ts;
      const id = outputId(inputId, this.def.kind, this.key, i);
      const finding = isIncidentKind(event.type);
      outputs.push({
        subject: finding ? findingSubject(event.type, this.key) : this.#outSubject,
        id,
        type: event.type,
        ...(finding ? { finding } : {}),
        // The body is the event less its type and ts, written without copying the event.
        data: encodeEventEnvelope({
          id,
          type: event.type,
          src: this.stream,
          ts: typeof ts === "number" ? Math.round(ts) : inputTs,
          cause: inputId,
        }, event as Record<string, unknown>),
      });
    }
    this.#clearOutbox();
    return outputs;
  }

  /**
   * Empties the outbox, keeping its storage: `length = 0` goes through V8's runtime and drops the
   * storage, which the next frame's push would allocate again.
   */
  #clearOutbox(): void {
    const outbox = this.#told.events;
    while (outbox.length > 0) outbox.pop();
  }
}

/**
 * What an instance's machine cell tells it: the events its machine emits, kept until the instance
 * drains them, and the error it fails with. One object an instance, its methods on the prototype:
 * a host holds hundreds of thousands of instances, and a listener of two closures costs three
 * objects each.
 */
class MachineTold implements MachineCellListener {
  readonly events: Array<EventObject & { ts?: number }> = [];
  error: unknown = undefined;

  emitted(event: EventObject): void {
    this.events.push(event);
  }

  failed(err: unknown): void {
    this.error = err;
  }
}

/**
 * Throws: an instance was handed journal position `pos` at or below its own, `at`. Apart from
 * the check, so that no message's closure is made (with its context) at every input.
 */
function handedOutOfOrder(stream: string, pos: number, at: number): never {
  throw new InvariantError(`Actor ${stream} was handed journal position ${pos} after ${at}`);
}
