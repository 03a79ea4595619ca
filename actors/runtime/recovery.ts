/**
 * How a host brings its actor instances back: all of them at start (the newest snapshot of each,
 * then one pass over the journal past them), and one at a time after a failure (its snapshot and
 * its journal, the careful way: inputs that keep failing it are recorded as skipped, dead-lettered,
 * and passed over). Both fold the journal through `foldInput`.
 */
import type { AnyActorDefinition, BusMessage } from "../../protocol/mod.ts";
import { ActorInstance, type Output, parseStream } from "./actor_instance.ts";
import type { DecodedFrame } from "./frame_decoder.ts";
import type { HostMetrics } from "./host_metrics.ts";
import { InputRejectedError } from "./input_rejected_error.ts";
import {
  decodeInputRecord,
  encodeSkipRecord,
  type InputRecord,
  skippedPosition,
} from "./input_record.ts";
import { foldInput, MissingInitError } from "./journal_fold.ts";
import { describeLoss, type JournalLoss, type LossPlan } from "./journal_loss.ts";
import type { Journal } from "./journal.ts";
import type { Slot } from "./_slot.ts";
import type { Snapshotter } from "./snapshotter.ts";
import { isPoison, type SupervisionOptions } from "./supervision.ts";

/** What recovery needs of its host. */
export interface RecoveryHost {
  journal: Journal;
  snapshotter: Snapshotter;
  supervision: SupervisionOptions;
  metrics: HostMetrics;
  log: (message: string) => void;
  kinds: ReadonlyMap<string, AnyActorDefinition>;
  slots: Map<string, Slot>;
  /** Whether this host owns the key's partition. */
  owns(key: string): boolean;
  /** The slot of `(def.kind, key)`, made when missing. */
  slot(def: AnyActorDefinition, key: string): Slot;
  /** Decodes a journaled frame ahead of the instance, or undefined (the instance decodes it). */
  decode(record: InputRecord): DecodedFrame | undefined;
  publish(outputs: Output[]): void;
  deadLetter(msg: BusMessage, err: unknown, actor?: string): void;
  /** Hands a failed instance to supervision. */
  failed(slot: Slot, err: unknown, pos: number): void;
  /** Applies what waits in the slot's mailbox. */
  pump(slot: Slot): void;
  closing(): boolean;
  /** The kind's current configuration (an instance whose starting one was lost starts from it). */
  config(kind: string): unknown;
  /** Judges the journal's losses; throws (JournalLossError) to refuse to start over them. */
  judgeLosses(losses: readonly JournalLoss[]): Promise<LossPlan>;
}

/** Where recovery is in one stream's positions, to find what the journal lost. */
interface Track {
  /** The next position expected. */
  expected: number;
  /** The highest source position kept so far. */
  src: number;
  /** The source positions kept after the first loss (they must not be taken again). */
  applied: Set<number> | undefined;
  /** The lowest `srcAfter` of the stream's losses. */
  lossAfter: number | undefined;
}

/** What one start-up recovery carries from phase to phase. */
interface RecoveryPass {
  /** Where the input resumes: the highest source position recovered (or decided at the edge). */
  resumeAfter: number;
  /** Each stream's snapshot position: its journal is read past it. */
  after: Map<string, number>;
  /** The slots being recovered. */
  pending: Slot[];
  track: Map<Slot, Track>;
  /** Slots whose instance threw while folding: rebuilt the careful way. */
  broken: Set<Slot>;
  losses: JournalLoss[];
}

/** Rebuilds a host's instances from snapshots and the journal. */
export class Recovery {
  readonly #h: RecoveryHost;

  constructor(host: RecoveryHost) {
    this.#h = host;
  }

  /**
   * Recovers every instance the journal (or the snapshot store) holds for this host's partitions;
   * returns the source position the input resumes after: the highest journaled (or `floor`, the
   * highest the host's edge decided), or lower where
   * the journal lost inputs the input gives back. Losses are judged before any instance is put to
   * work, so a refusal (a throw) leaves nothing started.
   */
  async recoverAll(floor = 0): Promise<number> {
    const pass: RecoveryPass = {
      resumeAfter: floor, // the highest source position decided at the host's edge
      after: new Map(),
      pending: [],
      track: new Map(),
      broken: new Set(),
      losses: [],
    };
    await this.#loadSnapshots(pass);
    if (pass.pending.length === 0) return pass.resumeAfter;
    await this.#foldJournal(pass);
    await this.#judgeLosses(pass);
    for (const slot of pass.pending) {
      if (pass.broken.has(slot)) {
        slot.inst = undefined;
        await this.restart(slot).catch((err) => this.#h.failed(slot, err, -1));
      } else {
        this.#settle(slot);
      }
    }
    return pass.resumeAfter;
  }

  /** Restores each stream's newest snapshot, and notes where its journal is read from. */
  async #loadSnapshots(pass: RecoveryPass): Promise<void> {
    const h = this.#h;
    const streams = new Set(h.journal.streams());
    // Streams the journal lost entirely, their snapshots kept (an empty journal is a new host).
    if (streams.size > 0) {
      for (const stream of await h.snapshotter.streams()) {
        streams.add(stream);
      }
    }
    for (const stream of streams) {
      const parsed = parseStream(stream);
      const def = parsed && h.kinds.get(parsed.kind);
      if (!parsed || !def || !h.owns(parsed.key)) continue;
      const slot = h.slot(def, parsed.key);
      slot.status = "recovering";
      const snap = await h.snapshotter.load(slot);
      if (snap) {
        h.snapshotter.savedPos.set(stream, snap.pos);
        slot.inst = ActorInstance.restore(def, parsed.key, snap);
        pass.resumeAfter = Math.max(pass.resumeAfter, snap.srcPos);
        const last = h.journal.lastPosition(stream);
        if (last < snap.pos && h.journal.advance) {
          h.log(
            `${stream}: the journal ends at position ${last}, before its snapshot at ${snap.pos}; positions continue after ${snap.pos}`,
          );
          h.journal.advance(stream, snap.pos);
        }
      }
      pass.after.set(stream, snap?.pos ?? 0);
      pass.track.set(slot, {
        expected: (snap?.pos ?? 0) + 1,
        src: snap?.srcPos ?? 0,
        applied: undefined,
        lossAfter: undefined,
      });
      pass.pending.push(slot);
    }
  }

  /**
   * Folds the journal past the snapshots into the instances in one pass, noting the positions
   * it lacks (losses) and the instances that throw (rebuilt the careful way afterwards).
   */
  async #foldJournal(pass: RecoveryPass): Promise<void> {
    const h = this.#h;
    for await (const rec of h.journal.readAll(pass.after)) {
      const slot = h.slots.get(rec.stream);
      if (!slot || slot.status !== "recovering") continue;
      const record = decodeInputRecord(rec.data);
      const t = pass.track.get(slot)!;
      if (rec.pos > t.expected) pass.losses.push(this.#lost(slot, t, rec.pos - 1));
      t.expected = rec.pos + 1;
      if (record.srcPos > 0) {
        t.applied?.add(record.srcPos);
        if (record.srcPos > t.src) t.src = record.srcPos;
      }
      if (record.srcPos > pass.resumeAfter) pass.resumeAfter = record.srcPos;
      if (pass.broken.has(slot)) continue;
      if (!slot.inst && record.kind !== "init" && t.applied) {
        // Its starting configuration was lost: the kind's current one stands in (if accepted).
        slot.inst = ActorInstance.create(slot.def, slot.key, h.config(slot.def.kind));
        slot.inst.skip(rec.pos - 1, 0);
      }
      try {
        // Outputs are published again: after a crash, those of the journal's tail may have been
        // lost in a send buffer. They carry the ids they had, so consumers drop duplicates.
        const step = { pos: rec.pos, record, decode: h.decode, outputs: true };
        const { inst, outputs } = foldInput(slot.def, slot.key, slot.inst, step);
        slot.inst = inst;
        if (outputs === undefined) continue;
        h.publish(outputs);
        slot.tally.outputs += outputs.length;
        slot.publishedPos = rec.pos;
      } catch {
        pass.broken.add(slot); // rebuilt afterwards, the careful way
      }
    }
    for (const [slot, t] of pass.track) {
      const last = h.journal.lastPosition(slot.stream);
      if (last >= t.expected) pass.losses.push(this.#lost(slot, t, last));
    }
  }

  /**
   * Has the host judge the losses (a throw refuses the start); marks the streams rebuilt from
   * the input, and lowers where the input resumes to give them back.
   */
  async #judgeLosses(pass: RecoveryPass): Promise<void> {
    const h = this.#h;
    const plan = await h.judgeLosses(pass.losses.filter((loss) => !this.#upgradeLoss(loss)));
    for (const loss of plan.rebuilt) {
      h.log(`journal lost ${describeLoss(loss)}: reading them again from the input`);
    }
    for (const loss of plan.accepted) h.log(`journal lost ${describeLoss(loss)}: accepted as lost`);
    const rebuilt = new Set(plan.rebuilt.map((l) => l.stream));
    for (const [slot, t] of pass.track) {
      if (rebuilt.has(slot.stream)) slot.rebuild = { after: t.lossAfter!, applied: t.applied! };
    }
    if (plan.resumeAfter !== undefined) {
      pass.resumeAfter = Math.min(pass.resumeAfter, plan.resumeAfter);
    }
  }

  /**
   * Whether `loss` is what an upgrade of the stream's kind leaves: the journal's start, compacted
   * behind a snapshot the new version cannot read. The old version applied those inputs; the
   * instance starts afresh on what the journal still holds, with the kind's current
   * configuration, and says so. Not damage, so not refused.
   */
  #upgradeLoss(loss: JournalLoss): boolean {
    const up = this.#h.snapshotter.upgraded.get(loss.stream);
    if (!up || loss.from !== 1 || loss.to > up.pos) return false;
    this.#h.log(
      `${loss.stream}: its kind was upgraded (version ${up.version} state cannot be read); inputs 1-${loss.to}, applied by the old version and compacted, are not replayed: the instance starts afresh after them`,
    );
    return true;
  }

  /** The loss of `slot`'s positions from `t.expected` to `to`, noted in its track. */
  #lost(slot: Slot, t: Track, to: number): JournalLoss {
    t.applied ??= new Set();
    t.lossAfter ??= t.src;
    return { stream: slot.stream, from: t.expected, to, srcAfter: t.src, init: t.expected === 1 };
  }

  /** Puts a slot that `recoverAll` rebuilt to work, or forgets it when nothing was left of it. */
  #settle(slot: Slot): void {
    const h = this.#h;
    if (!slot.inst) {
      // No snapshot (or one of another version) and no records left: compacted away.
      h.log(
        `${slot.stream}: no usable snapshot and no journal records left; it starts afresh on its next input`,
      );
      h.slots.delete(slot.stream);
      h.metrics.instances.dec({ kind: slot.def.kind });
    } else {
      slot.status = "running";
      slot.srcPosMax = Math.max(slot.srcPosMax, slot.inst.srcPos);
      slot.publishedPos = Math.max(slot.publishedPos, slot.inst.pos);
      if (slot.inst.sinceSnapshot > 0) h.snapshotter.capture(slot);
    }
  }

  /** Rebuilds one instance from its snapshot and journal, skipping poison inputs. */
  async restart(slot: Slot): Promise<void> {
    const h = this.#h;
    if (h.closing()) return;
    h.metrics.restarts.inc({ kind: slot.def.kind });
    slot.status = "recovering";
    const records: Array<{ pos: number; record: InputRecord }> = [];
    const snap = await h.snapshotter.load(slot);
    for await (const rec of h.journal.read(slot.stream, snap?.pos ?? 0)) {
      const record = decodeInputRecord(rec.data.slice());
      if (record.kind === "skip") slot.skips.add(skippedPosition(record));
      records.push({ pos: rec.pos, record });
    }
    let inst = snap ? ActorInstance.restore(slot.def, slot.key, snap) : undefined;
    for (const { pos, record } of records) {
      // Outputs of inputs applied before were published then; those of the input that failed
      // (and of any journaled while the instance was down) never were.
      const fresh = pos > slot.publishedPos;
      const step = { pos, record, decode: h.decode, skipped: slot.skips.has(pos), outputs: fresh };
      try {
        const folded = foldInput(slot.def, slot.key, inst, step);
        inst = folded.inst;
        if (fresh && folded.outputs !== undefined) {
          h.publish(folded.outputs);
          slot.tally.outputs += folded.outputs.length;
          slot.publishedPos = pos;
        }
      } catch (err) {
        if (err instanceof MissingInitError || !isPoison(slot, pos, h.supervision)) throw err;
        await this.#skipPoison(slot, pos, record, err);
        // Rebuild cleanly: the failed attempt may have left the state half-changed.
        return this.restart(slot);
      }
    }
    if (!inst) throw new Error(`${slot.stream}: nothing to restore`);
    slot.inst = inst;
    if (inst.srcPos > slot.srcPosMax) slot.srcPosMax = inst.srcPos;
    slot.status = "running";
    h.log(`${slot.stream} restarted at input ${inst.pos}`);
    h.snapshotter.capture(slot);
    h.pump(slot);
  }

  /** Records the input at `pos` as skipped and dead-letters it. */
  async #skipPoison(slot: Slot, pos: number, record: InputRecord, err: unknown): Promise<void> {
    const h = this.#h;
    await h.journal.append(slot.stream, encodeSkipRecord(pos, record));
    slot.skips.add(pos);
    h.deadLetter(
      { subject: record.subject, data: record.payload, headers: undefined, reply: undefined },
      new InputRejectedError("apply", (err as Error).message, { cause: err }),
      slot.stream,
    );
    const count = slot.inputFailures.get(pos) ?? 0;
    h.log(`${slot.stream}: input ${pos} failed ${count} times; moved to the dead letters`);
  }
}
