/**
 * An instance's pump: takes the inputs waiting in a slot's mailbox, in order, journals each and
 * only then applies it (an output is published only once its input is in the journal). A new
 * instance's starting configuration is journaled before its first input. A journal that appends
 * asynchronously (JetStream) parks the pump until the position comes back; an append that fails
 * is retried after the supervision's base backoff, one that met another writer of the stream
 * goes to the host (which rebuilds the instance from the journal: restarts.ts), and one the host
 * cannot go on after (a full disk) stops the host, the input staying where it is.
 *
 * Where the journal writes a run of records in one message (`appendMany`: JetStream, whose appends
 * to one stream each wait for the one before), the inputs waiting at the head of a mailbox are
 * journaled together, then applied one by one: an instance fed by many channels (a group) keeps
 * up at a round trip a run rather than an input. After a failed write the next is of the same
 * inputs, so that a write whose fate was unknown is found stored rather than stored twice.
 */
import {
  ActorInstance,
  compactMailbox,
  type HostTimers,
  type Pending,
  type Slot,
  STAGE,
  type StageTrace,
} from "../instances/mod.ts";
import { isFatalIoError } from "../operations/mod.ts";
import {
  JournalConflictError,
  type JournalData,
  journalDataLength,
  type StreamMemo,
} from "../journal/mod.ts";
import { initRecordEncoder } from "../../../protocol/mod.ts";

/** What a pump works with: the host's journal appends, its apply, its configurations. */
export interface SlotPumpParts {
  hostId: string;
  /** Each kind's configuration: a new instance's starting one. */
  configs: ReadonlyMap<string, unknown>;
  /** Appends to the journal; undefined when the host stops (its journal cannot be written). */
  append(
    stream: string,
    bytes: JournalData,
    memo?: StreamMemo,
  ): number | Promise<number> | undefined;
  /**
   * Appends a run of records in one write, resolving to the first's position (a journal that has
   * `appendMany`); undefined when the host stops.
   */
  appendMany?(stream: string, records: readonly JournalData[]): Promise<number> | undefined;
  /** Applies a journaled input live (kernel, machine, publish). */
  apply(slot: Slot, item: Pending, pos: number): void;
  /** Stops the host after an error it cannot go on after. */
  fatal(err: unknown): void;
  /** Takes a slot whose append met another writer of its stream (the input stays queued). */
  conflict(slot: Slot, err: JournalConflictError): void;
  timers: HostTimers;
  /** Milliseconds before a failed append is tried again. */
  retryMs: number;
  log(message: string): void;
  trace: StageTrace | undefined;
}

/** Inputs in one write at most. */
export const APPEND_RUN_MAX = 256;

/** Bytes in one write at most: a quarter of nats-server's default largest message (1 MiB). */
export const APPEND_RUN_BYTES_MAX = 256 * 1024;

/** Journals and applies the inputs of slots' mailboxes, in order. */
export class SlotPump {
  readonly #parts: SlotPumpParts;
  /** Slots whose last write failed: how many inputs it held, which the next write holds again. */
  readonly #retries = new Map<Slot, number>();
  /** Each kind's init record encoder, for the configuration it was made with. */
  readonly #inits = new Map<string, { config: unknown; encode: (stream: string) => Uint8Array }>();

  constructor(parts: SlotPumpParts) {
    this.#parts = parts;
  }

  /** Journals and applies a slot's queued inputs in order. */
  pump(slot: Slot): void {
    if (slot.pumping) return;
    slot.pumping = true;
    const trace = this.#parts.trace;
    while (slot.status === "running" && slot.head < slot.mailbox.length) {
      const item = slot.mailbox[slot.head]!;
      if (!slot.inst) {
        // A dormant instance whose restore threw is in supervision's hands now, not started anew.
        if (slot.status !== "running") break;
        if (!this.#startInstance(slot)) return; // resumes when the init is journaled
      }
      const inst = slot.inst!;
      if (item.pos !== undefined || item.posPromise !== undefined) {
        // Journaled on arrival, while the instance was restarting.
        if (item.pos === undefined) {
          item.posPromise!.then((pos) => {
            item.pos = pos;
            item.posPromise = undefined;
            this.#resume(slot);
          }, (err) => {
            // Not journaled: appended afresh when the pump retries.
            item.posPromise = undefined;
            this.#journalFailed(slot, err);
          });
          return;
        }
        slot.head++;
        if (item.pos > inst.pos) this.#parts.apply(slot, item, item.pos);
        continue;
      }
      if (this.#parts.appendMany !== undefined && this.#appendRun(slot)) return;
      trace?.mark(STAGE.admission);
      const r = this.#parts.append(slot.stream, item.bytes, slot.memo);
      if (r === undefined) break; // the host stops: the input stays where it is
      if (typeof r !== "number") {
        trace?.drop();
        r.then((pos) => {
          if (this.#retries.size > 0) this.#retries.delete(slot);
          slot.head++;
          this.#parts.apply(slot, item, pos);
          slot.pumping = false;
          compactMailbox(slot);
          this.pump(slot);
        }, (err) => {
          this.#retries.set(slot, 1);
          this.#journalFailed(slot, err);
        });
        return;
      }
      slot.head++;
      trace?.mark(STAGE.journal);
      this.#parts.apply(slot, item, r);
    }
    compactMailbox(slot);
    slot.pumping = false;
  }

  /**
   * Journals the run of inputs waiting at the head of `slot`'s mailbox in one write, when there
   * are two or more; they are applied once it is in (as inputs journaled on arrival). False when
   * there is one: it is appended alone.
   */
  #appendRun(slot: Slot): boolean {
    const run = this.#waitingRun(slot);
    if (run.length < 2) return false;
    const r = this.#parts.appendMany!(slot.stream, run.map((item) => item.bytes));
    if (r === undefined) {
      slot.pumping = false; // the host stops: the inputs stay where they are
      return true;
    }
    this.#parts.trace?.drop();
    this.#retries.set(slot, run.length);
    r.then((first) => {
      this.#retries.delete(slot);
      for (let i = 0; i < run.length; i++) run[i]!.pos = first + i;
      this.#resume(slot);
    }, (err) => this.#journalFailed(slot, err));
    return true;
  }

  /**
   * The inputs at the head of `slot`'s mailbox not journaled yet, within a write's bounds; after a
   * failed write, the same inputs as it held (they are still at the head).
   */
  #waitingRun(slot: Slot): Pending[] {
    const again = this.#retries.get(slot);
    const max = again ?? APPEND_RUN_MAX;
    const run: Pending[] = [];
    let bytes = 0;
    for (let i = slot.head; i < slot.mailbox.length && run.length < max; i++) {
      const item = slot.mailbox[i]!;
      if (item.pos !== undefined || item.posPromise !== undefined) break;
      bytes += journalDataLength(item.bytes);
      if (again === undefined && run.length > 0 && bytes > APPEND_RUN_BYTES_MAX) break;
      run.push(item);
    }
    return run;
  }

  /** Goes on pumping a slot after an asynchronous append. */
  #resume(slot: Slot): void {
    slot.pumping = false;
    this.pump(slot);
  }

  /**
   * Creates a new instance, journaling its starting configuration first. False when the journal
   * appends asynchronously: the pump resumes once the record is in.
   */
  #startInstance(slot: Slot): boolean {
    const kind = slot.def.kind;
    const config = this.#parts.configs.get(kind);
    let inits = this.#inits.get(kind);
    if (inits === undefined || inits.config !== config) {
      inits = { config, encode: initRecordEncoder({ src: this.#parts.hostId, config }) };
      this.#inits.set(kind, inits);
    }
    const init = inits.encode(slot.stream);
    const r = this.#parts.append(slot.stream, init, slot.memo);
    if (r === undefined) {
      slot.pumping = false; // the host stops
      return false;
    }
    const inst = ActorInstance.create(slot.def, slot.key, config);
    slot.inst = inst;
    if (typeof r !== "number") {
      r.then((pos) => {
        inst.skip(pos, 0);
        inst.sinceSnapshot = 0;
        this.#resume(slot);
      }, (err) => this.#journalFailed(slot, err));
      return false;
    }
    inst.skip(r, 0);
    inst.sinceSnapshot = 0;
    return true;
  }

  #journalFailed(slot: Slot, err: unknown): void {
    slot.pumping = false;
    if (isFatalIoError(err)) {
      this.#parts.fatal(err);
      return;
    }
    if (err instanceof JournalConflictError) {
      this.#retries.delete(slot); // the stream is reloaded: nothing of unknown fate is left
      this.#parts.conflict(slot, err); // never retried as it is: the instance may be stale
      return;
    }
    this.#parts.log(
      `journal append for ${slot.stream} failed: ${(err as Error).message}; retrying`,
    );
    this.#parts.timers.setTimeout(() => this.pump(slot), this.#parts.retryMs);
  }
}
