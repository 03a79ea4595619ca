/**
 * An input applied live to its instance (not replayed): the kernel step and machine event, the
 * outputs published with ids derived from the input's, the instance's tallies and the host's
 * counts, and a snapshot once the instance has taken `snapshotEveryInputs` inputs since its last.
 * An instance that throws is handed to supervision (`failed`), its outputs unpublished. Each step
 * is watched for its kind's deadline when the host has a watchdog (step_watch.ts). An input of a
 * team's kind is tried on the trials thread first (step_trials.ts): applied here once its step
 * has returned there, skipped (deadline_skip.ts) when it ran past its deadline or ended its
 * thread, and handed to supervision, without running here, when it threw there; in the order of
 * their inputs. In a replay, an input its recording says the live host skipped is skipped again,
 * and the ticks it says the host applied after an input are applied after it.
 */
import type { Bus } from "../../../protocol/mod.ts";
import {
  type ActorInstance,
  AppliedListeners,
  ApplyError,
  type Output,
  type Pending,
  type Slot,
  STAGE,
  type StageTrace,
} from "../instances/mod.ts";
import type { HostMetrics } from "../operations/mod.ts";
import type { Snapshotter } from "../recovery/mod.ts";
import { publishOutputs } from "./publish_outputs.ts";
import type { StepWatch } from "./step_watch.ts";
import type { StepTrials, TrialOutcome } from "./step_trials.ts";
import { TrialOrder } from "./trial_order.ts";
import {
  type DeadlineSkipParts,
  skipExitedInput,
  skipOverranInput,
  skipRecordedInput,
} from "./deadline_skip.ts";
import type { RecordedSkips } from "./recorded_skips.ts";
import { inputIdOf, type RecordedTicks } from "./recorded_ticks.ts";

/** What live applies work with. */
export interface LiveApplyOptions {
  bus: Bus;
  metrics: HostMetrics;
  snapshotter: Snapshotter;
  /** The stage trace, when one is on (see stage_trace.ts). */
  trace: StageTrace | undefined;
  /** Outputs carry a `Nats-Msg-Id` header (JetStream deduplication). */
  msgIdHeaders: boolean;
  /** Inputs an instance takes before it is snapshotted. */
  snapshotEveryInputs: number;
  /** Inputs were put in the slot's mailbox other than through it (recorded ticks). */
  waiting(slot: Slot): void;
  /**
   * The host's steps: the watchdog, when steps have a deadline (step_watch.ts); the trials thread
   * of a team's kinds, when they are isolated (step_trials.ts); the inputs a replayed recording
   * says its live host skipped (recorded_skips.ts), and the ticks it applied (recorded_ticks.ts).
   */
  steps: {
    stepWatch?: StepWatch | undefined;
    stepTrials?: StepTrials | undefined;
    recordedSkips?: RecordedSkips | undefined;
    recordedTicks?: RecordedTicks | undefined;
  };
  /** Appends to the journal (a skip record); undefined when the host stops. */
  append: DeadlineSkipParts["append"];
  /** Where a skip's attempt record is journaled (the host's edge decisions). */
  decisions: { attempt: DeadlineSkipParts["attempt"] };
  /** Where a skipped input is dead-lettered. */
  notices: { deadLetter: DeadlineSkipParts["deadLetter"] };
  /** An instance threw applying the input at `pos`. */
  failed(slot: Slot, err: unknown, pos: number): void;
  log(message: string): void;
}

/** Applies inputs live and counts them. */
export class LiveApply {
  /** Inputs applied, by kind (a cheap counter for tests and benchmarks). */
  readonly applied = new Map<string, number>();
  /** Who is told of each input applied live, by kind. */
  readonly listeners: AppliedListeners;
  /** Inputs applied, all kinds: what the progress watch follows. */
  total = 0;
  readonly #options: LiveApplyOptions;
  /** What applies pass to instances. */
  readonly #applyOptions: { trace?: StageTrace };
  /** What skipping an input whose trial overran works with. */
  readonly #skips: DeadlineSkipParts;
  /** The order the trials are acted on in: their inputs'. */
  readonly #order: TrialOrder;

  constructor(options: LiveApplyOptions) {
    this.#options = options;
    this.listeners = new AppliedListeners((line) => options.log(line));
    this.#applyOptions = options.trace ? { trace: options.trace } : {};
    this.#order = new TrialOrder(options.log);
    options.steps.stepTrials?.whenStuck((stream) => this.#order.stuck(stream));
    this.#skips = {
      append: options.append,
      attempt: (attempt) => options.decisions.attempt(attempt),
      deadLetter: (msg, err, actor) => options.notices.deadLetter(msg, err, actor),
      capture: (slot) => {
        options.snapshotter.capture(slot);
        options.snapshotter.noteNews(slot); // a capture that waits for a rebuild leaves news
      },
      log: options.log,
    };
  }

  /**
   * Applies `item`, journaled at `pos`, to its slot's instance: at once, or, tried on the trials
   * thread first, once its trial and those submitted before it are decided (trial_order.ts).
   */
  apply(slot: Slot, item: Pending, pos: number): void {
    if (slot.def.tickEvent && item.record.kind !== "tick") this.#tickedAfter(slot, item);
    const skip = this.#options.steps.recordedSkips?.take(slot.stream, item.record);
    if (skip !== undefined) return skipRecordedInput(slot, { item, pos, skip }, this.#skips);
    const trials = this.#options.steps.stepTrials;
    if (trials === undefined || !trials.isolates(slot.def.kind)) {
      return this.#applyHere(slot, item, pos);
    }
    const inst = slot.inst;
    const outcome = trials.trial(slot, item.record, pos);
    this.#order.submit(slot.stream, outcome, (o) => this.#decided(slot, inst, { item, pos }, o));
  }

  /**
   * Of a kind that acts on time: `item` is the input a tick now would come after (its notice says
   * so); in a replay, the ticks recorded after it are put next in the mailbox.
   */
  #tickedAfter(slot: Slot, item: Pending): void {
    slot.lastInputId = inputIdOf(item);
    if (this.#options.steps.recordedTicks?.placeAfter(slot, item)) this.#options.waiting(slot);
  }

  /** Acts on the trial of `item`, submitted when the slot's instance was `inst`. */
  #decided(
    slot: Slot,
    inst: ActorInstance | undefined,
    { item, pos }: { item: Pending; pos: number },
    outcome: TrialOutcome,
  ): void | Promise<void> {
    // The instance restarted or moved on meanwhile: the input is its rebuild's to take.
    if (slot.inst !== inst || inst === undefined || inst.pos >= pos) return;
    if (outcome.ok) return this.#applyHere(slot, item, pos);
    if ("stopping" in outcome) return;
    if ("overrun" in outcome) {
      const at = { item, pos, overrun: outcome.overrun };
      return skipOverranInput(slot, at, this.#skips);
    }
    // Run again on this thread, by the instance's rebuild, it would end the host.
    if ("exited" in outcome) {
      return skipExitedInput(slot, { item, pos, why: outcome.exited }, this.#skips);
    }
    const message = `Actor ${slot.stream} failed to apply input ${pos}: ${outcome.error}`;
    this.#options.failed(slot, new ApplyError(message, pos), pos);
  }

  #applyHere(slot: Slot, item: Pending, pos: number): void {
    const inst = slot.inst!;
    const kind = slot.def.kind;
    const t0 = performance.now();
    const duplicates = inst.duplicates;
    let outputs: Output[];
    const watch = this.#options.steps.stepWatch;
    watch?.begin(slot, pos, item.record.srcPos, t0);
    try {
      outputs = inst.apply(item.record, pos, item.decoded, this.#applyOptions);
    } catch (err) {
      watch?.end();
      this.#options.failed(slot, err, pos);
      return;
    }
    watch?.end();
    if (inst.duplicates !== duplicates) this.#options.metrics.duplicates.inc({ kind });
    this.publish(outputs);
    const trace = this.#options.trace;
    if (trace) {
      trace.mark(STAGE.publish);
      trace.end();
    }
    for (const out of outputs) if (out.type !== undefined) slot.tally.event(out.type);
    slot.publishedPos = pos;
    slot.tally.input((performance.now() - t0) / 1000, outputs.length);
    this.applied.set(kind, (this.applied.get(kind) ?? 0) + 1);
    this.total++;
    if (item.decoded) slot.lastEventUs = item.decoded.envelope.ts;
    this.listeners.tell(kind, slot.key, item.decoded ? item.decoded.envelope.ts : NaN);
    const snapshotter = this.#options.snapshotter;
    if (inst.sinceSnapshot >= this.#options.snapshotEveryInputs) snapshotter.capture(slot);
    snapshotter.noteNews(slot);
  }

  /** Publishes an instance's outputs. */
  publish(outputs: Output[]): void {
    publishOutputs(this.#options.bus, outputs, this.#options.msgIdHeaders);
  }
}
