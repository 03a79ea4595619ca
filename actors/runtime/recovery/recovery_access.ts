import type { AnyActorDefinition, BusMessage, InputRecord } from "../../../protocol/mod.ts";
import type {
  DecodedFrame,
  HostTimers,
  Output,
  Pending,
  Slot,
  SupervisionOptions,
} from "../instances/mod.ts";
import type { HostMetrics } from "../operations/mod.ts";
import type { Journal, JournalLoss, LossPlan } from "../journal/mod.ts";
import type { AttemptJournal, OverrunToSkip, StepWatching } from "./crash_attempts.ts";
import type { Snapshotter } from "./snapshotter.ts";

/**
 * What recovery may touch of the host it rebuilds: its journal, snapshots, slots and kinds, and
 * the host's own steps (publish, supervise, pump, enqueue) it calls back into. Not a host: the
 * part of one recovery is given.
 */
export interface RecoveryAccess {
  journal: Journal;
  snapshotter: Snapshotter;
  supervision: SupervisionOptions;
  metrics: HostMetrics;
  log: (message: string) => void;
  kinds: ReadonlyMap<string, AnyActorDefinition>;
  slots: Map<string, Slot>;
  /** Whether this host owns the key's partition. */
  owns(key: string): boolean;
  /** The slot of `(def.kind, key)`, made when missing; `stream` its stream's name (`kind/key`). */
  slot(def: AnyActorDefinition, key: string, stream: string): Slot;
  /** Decodes a journaled frame ahead of the instance, or undefined (the instance decodes it). */
  decode(record: InputRecord): DecodedFrame | undefined;
  publish(outputs: Output[]): void;
  deadLetter(msg: BusMessage, err: unknown, actor?: string): void;
  /** Hands a failed instance to supervision. */
  failed(slot: Slot, err: unknown, pos: number): void;
  /** Applies what waits in the slot's mailbox. */
  pump(slot: Slot): void;
  /** The slot's status was set other than running (the host's gauges count it). */
  statusMoved(slot: Slot): void;
  /** Journals and applies an input to the slot's instance, through its mailbox. */
  enqueue(slot: Slot, item: Pending): void;
  closing(): boolean;
  /**
   * The error the host failed on (its lease lost, its journal unwritable), if it did: a recovery
   * in progress stops at its next step, nothing more of it worth doing.
   */
  failure(): Error | undefined;
  /** The host's timers: a start's dormant instances are restored in slices on them. */
  timers: HostTimers;
  /** The kind's current configuration (an instance whose starting one was lost starts from it). */
  config(kind: string): unknown;
  /** Judges the journal's losses; throws (JournalLossError) to refuse to start over them. */
  judgeLosses(losses: readonly JournalLoss[]): Promise<LossPlan>;
  /** Where attempt records are journaled and read back (the host's edge stream). */
  attempts: AttemptJournal;
  /** The position through which `stream`'s outputs were published at the host's last clean stop
   *  (edge_decisions.ts): its replay publishes only what is past it. */
  publishedThrough(stream: string): number;
  /** A step that ran past its deadline before this start, if one did (step_overrun.ts). */
  overrun: OverrunToSkip | undefined;
  /** The step watchdog, when steps have a deadline (step_watch.ts). */
  watch: StepWatching | undefined;
}
