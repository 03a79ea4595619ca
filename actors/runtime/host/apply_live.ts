/**
 * An input applied live to its instance (not replayed): the kernel step and machine event, the
 * outputs published with ids derived from the input's, the instance's tallies and the host's
 * counts, and a snapshot once the instance has taken `snapshotEveryInputs` inputs since its last.
 * An instance that throws is handed to supervision (`failed`), its outputs unpublished. Each step
 * is watched for its kind's deadline when the host has a watchdog (step_watch.ts).
 */
import type { Bus } from "../../../protocol/mod.ts";
import {
  AppliedListeners,
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
  /** The step watchdog, when steps have a deadline (step_watch.ts). */
  watch: StepWatch | undefined;
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

  constructor(options: LiveApplyOptions) {
    this.#options = options;
    this.listeners = new AppliedListeners((line) => options.log(line));
    this.#applyOptions = options.trace ? { trace: options.trace } : {};
  }

  /** Applies `item`, journaled at `pos`, to its slot's instance. */
  apply(slot: Slot, item: Pending, pos: number): void {
    const inst = slot.inst!;
    const kind = slot.def.kind;
    const t0 = performance.now();
    const duplicates = inst.duplicates;
    let outputs: Output[];
    const watch = this.#options.watch;
    watch?.begin(slot, pos, item.record.srcPos);
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
    if (inst.sinceSnapshot >= this.#options.snapshotEveryInputs) {
      this.#options.snapshotter.capture(slot);
    }
  }

  /** Publishes an instance's outputs. */
  publish(outputs: Output[]): void {
    publishOutputs(this.#options.bus, outputs, this.#options.msgIdHeaders);
  }
}
