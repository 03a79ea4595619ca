/**
 * How a host brings its actor instances back: all of them at start (the newest snapshot of each,
 * then one pass over the journal past them), and one at a time after a failure (its snapshot and
 * its journal, the careful way: rebuild_instance.ts). Both fold the journal through `foldInput`.
 * After a clean stop, the inputs past an instance's snapshot whose outputs went out are applied at
 * its first use instead (deferred_tails.ts).
 *
 * A hole in a stream's positions (damage, a deleted message) stops its fold there until the loss
 * is judged (journal_loss.ts). A loss the input gives back is rebuilt in order: one journaled void
 * record voids the hole and every record after it, the input resumes after the last source
 * position folded before the hole, and everything from there is applied again in the order it
 * first came (held_inputs.ts keeps the control messages and ticks, which the input cannot give,
 * for their place). A loss accepted as lost folds what follows the hole as journaled.
 *
 * At start, each stream's last input is applied once the losses are judged, one at a time, an
 * attempt record journaled before each, and one the host died on too often is skipped instead
 * (crash_attempts.ts); every record journaled after the first of them waits too, and is folded
 * among them in journal order, so that the outputs go out in the order their inputs came.
 */
import {
  decodeEnvelope,
  decodeInputRecord,
  decodeInputRecordCopy,
  encodeVoidRecord,
  type InputKind,
  type InputRecord,
  voidedRange,
} from "../../../protocol/mod.ts";
import {
  ActorInstance,
  addSkip,
  foldInput,
  isSkipped,
  positionsOf,
  type Slot,
} from "../instances/mod.ts";
import { HeldInputs } from "./held_inputs.ts";
import {
  describeLoss,
  type JournalLoss,
  type JournalRecord,
  type LossPlan,
  recordBatches,
  VoidedPositions,
} from "../journal/mod.ts";
import { StreamHold } from "./recovery_hold.ts";
import { HELD, HELD_NOW } from "../snapshots/mod.ts";
import { applyTail, type TailInput } from "./crash_attempts.ts";
import { SnapshotReads, type WantedSnapshot } from "./_snapshot_reads.ts";
import { ownedStreams } from "./_owned_streams.ts";
import { noteStreamsNotTaken } from "./_streams_not_taken.ts";
import { listedStreams, NONE_STORED } from "./_stored_streams.ts";
import { rebuildInstance } from "./rebuild_instance.ts";
import type { RecoveryAccess } from "./recovery_access.ts";
import { warmUp } from "./warm_up.ts";
import { byBodyOrder } from "./restorable_snapshot.ts";
import { DeferredTails } from "./deferred_tails.ts";

/** A start's pass over its snapshots looks whether the host failed every this many plus one. */
const GO_ON_EVERY = 255;

/** The kinds of record a host applies (and so may die applying). */
const APPLIED_KINDS: ReadonlySet<InputKind> = new Set(["frame", "ctl", "tick", "seed"]);

/** Where recovery is in one stream's positions, to find what the journal lost. */
interface Track {
  /** The next position expected. */
  expected: number;
  /** The highest source position folded so far. */
  src: number;
  /** The snapshot's position: the journal is read past it. */
  start: number;
  /** The stream's losses not voided since. */
  losses: JournalLoss[];
  /** Set from the first hole on: nothing past it is folded until the loss is judged. */
  hold: StreamHold | undefined;
  /**
   * Set when a void record of an earlier start ended the hold: the rebuild it began, and the ids
   * of the control messages and ticks applied again after it (a crash may have cut it short).
   */
  rebuilding?: { hold: StreamHold; ids: Set<string> } | undefined;
}

/** What one start-up recovery carries from phase to phase. */
interface RecoveryPass {
  /** Where the input resumes: the highest source position recovered (or decided at the edge). */
  resumeAfter: number;
  /** The highest source position journaled so far in the pass, any stream. */
  seenSrc: number;
  /** Where streams being rebuilt need the input to resume, at the latest (lowered at the end). */
  rebuildAfter: number;
  /** The snapshot position of each stream but the dormant ones: its journal is read past it. */
  after: Map<string, number>;
  /** The slots being recovered. */
  pending: Slot[];
  /** Where each slot recovered but the dormant ones is in its stream's positions. */
  track: Map<Slot, Track>;
  /** Slots whose instance threw while folding: rebuilt the careful way. */
  broken: Set<Slot>;
  /** The inputs applied alone (crash_attempts.ts), every record after the first with them. */
  tail: TailInput[];
  /** Whether an input was skipped as one the host died on: its skip is snapshotted at once. */
  crashSkips: boolean;
  /** Instances whose inputs past their snapshots (a clean stop's) are applied at first use. */
  deferred: DeferredTails;
}

/** Rebuilds a host's instances from snapshots and the journal. */
export class Recovery {
  readonly #access: RecoveryAccess;
  /** Inputs of rebuilt instances that the input cannot give again, waiting for their place. */
  readonly held: HeldInputs;
  /** The instances the last start left dormant (Slot.dormant), restored as used or later. */
  dormantAtStart = 0;
  /** The journaled inputs the last start left to its dormant instances, applied as restored. */
  deferredAtStart = 0;
  /**
   * The inputs past their snapshots (all of its journal for an instance without one) of the
   * instances the last start did not leave dormant at once, the deferred ones' included: each
   * instance's position past its stream's saved one. A snapshot written during recovery (after
   * an input skipped for crashing its step) moves its stream's saved position, so such a stream
   * counts less. An instance left dormant at once has nothing past its snapshot.
   */
  pastSnapshotsAtStart = 0;
  /**
   * Whether the last start's input resumes below what was journaled, to give again inputs the
   * journal lost (a stream being rebuilt).
   */
  rebuildsLost = false;

  constructor(access: RecoveryAccess) {
    this.#access = access;
    this.held = new HeldInputs(access.enqueue);
  }

  /**
   * Recovers every instance the journal (or the snapshot store) holds for this host's partitions;
   * returns the source position the input resumes after: the highest journaled (or `floor`, the
   * highest the host's edge decided), or lower where the journal lost inputs the input gives back.
   * Losses are judged before any instance is put to work, so a refusal (a throw) leaves nothing
   * started.
   */
  async recoverAll(floor = 0): Promise<number> {
    this.rebuildsLost = false;
    this.pastSnapshotsAtStart = 0;
    const pass: RecoveryPass = {
      resumeAfter: floor, // the highest source position decided at the host's edge
      seenSrc: 0,
      rebuildAfter: Infinity,
      after: new Map(),
      pending: [],
      track: new Map(),
      broken: new Set(),
      tail: [],
      crashSkips: false,
      deferred: new DeferredTails(),
    };
    await this.#loadSnapshots(pass);
    if (pass.pending.length === 0) return pass.resumeAfter;
    await this.#foldJournal(pass);
    this.#goOn(pass, "folding the journal");
    const plan = await this.#judgeLosses(pass);
    // After the losses are judged (a refused start writes nothing) and after the check for
    // records lost at the end (a skip appended here is not one); before the losses are acted
    // on, which go on a stream from its hole, after the tail's records before the hole.
    await this.#applyTail(pass);
    await this.#resolveLosses(pass, plan);
    pass.resumeAfter = Math.min(pass.resumeAfter, pass.rebuildAfter);
    this.rebuildsLost = pass.rebuildAfter !== Infinity;
    for (const slot of pass.pending) {
      if (pass.broken.has(slot)) {
        pass.deferred.drop(slot);
        slot.inst = undefined;
        await this.restart(slot).catch((err) => this.#access.failed(slot, err, -1));
      } else {
        this.#settle(pass, slot);
      }
    }
    this.deferredAtStart = pass.deferred.inputs;
    // In the order their bodies lie, which their store reads many at a time.
    const dormant = pass.pending.filter((slot) => slot.dormant !== undefined).sort(byBodyOrder);
    this.dormantAtStart = dormant.length;
    warmUp(dormant, {
      ...this.#access,
      left: (count) => this.#access.metrics.recoveryDormant.set(count),
    });
    // What was held after a position the input will not give again goes in now.
    this.held.after(pass.resumeAfter);
    // A skipped input must never be applied again: no later start reads the journal before it.
    if (pass.crashSkips) await this.#access.snapshotter.flush();
    const savedPos = this.#access.snapshotter.savedPos;
    let past = 0;
    for (const slot of pass.track.keys()) {
      past += Math.max(0, positionsOf(slot).pos - (savedPos.get(slot.stream) ?? 0));
    }
    this.pastSnapshotsAtStart = past;
    return pass.resumeAfter;
  }

  /**
   * Throws once the host has failed (a leased partition's lease lost or handed off while it
   * recovers): the rest of the recovery would be thrown away with the host, and its CPU and reads
   * are another host's to spend.
   */
  #goOn(pass: RecoveryPass, doing: string): void {
    const failure = this.#access.failure();
    if (failure === undefined) return;
    throw new Error(
      `recovery stopped ${doing} (${pass.pending.length} instances begun): ${failure.message}`,
    );
  }

  /** Restores each stream's newest snapshot (read ahead), notes where its journal is read. */
  async #loadSnapshots(pass: RecoveryPass): Promise<void> {
    const h = this.#access;
    const failed = (slot: Slot, err: unknown) => h.failed(slot, err, -1);
    const journaled = h.journal.streamLasts?.() ?? h.journal.streams();
    // An empty journal is a new host: snapshots without it are not read.
    const listed = Array.isArray(journaled) ? journaled.length : journaled.streams.length;
    // Asked of the store at once where it can say (the packed store), else of its list.
    const s = h.snapshotter, now = (stream: string) => s.hasStreamNow(stream);
    const stored = listed === 0
      ? NONE_STORED
      : s.heldStreams() ?? listedStreams(await s.streams(), now);
    const found = ownedStreams(h, journaled, stored);
    const owned = found instanceof Promise ? await found : found;
    noteStreamsNotTaken(h, owned.others);
    // Read ahead: those the store does not hold in memory now (at a fleet host's start, none).
    const wanted: WantedSnapshot[] = [];
    for (let i = 0; i < owned.count; i++) {
      if (owned.stored[i] === HELD) {
        wanted.push({ stream: owned.streams[i]!, version: owned.defs[i]!.version });
      }
    }
    const reads = new SnapshotReads(wanted, { from: h.snapshotter });
    // Streams the journal holds none of past their snapshots' positions: a journal compacted
    // whole below them (a leased partition's), or lost; told once, not a line each.
    let unjournaled = 0;
    for (let i = 0; i < owned.count; i++) {
      if ((i & GO_ON_EVERY) === 0) this.#goOn(pass, `restoring ${owned.count} snapshots`);
      const stream = owned.streams[i]!, key = owned.keys[i]!, def = owned.defs[i]!;
      const slot = h.slot(def, key, stream);
      slot.status = "recovering";
      h.statusMoved(slot);
      // Inputs skipped by an earlier start: never applied, though read before their skip record.
      for (const pos of h.attempts.skippedIn(stream) ?? []) addSkip(slot, pos);
      slot.publishedPos = Math.max(slot.publishedPos, h.publishedThrough(stream));
      // Taken at once where the store holds the head (at a fleet host's start, nearly all),
      // else read (ahead).
      const held = owned.stored[i]!;
      const now = held === HELD_NOW
        ? reads.takeNow(stream, def.version)
        : held === HELD
        ? null
        : undefined;
      const snap = now === null ? await reads.take(stream, def.version) : now;
      if (snap) {
        h.snapshotter.savedPos.set(stream, snap.pos);
        const listedLast = owned.lasts[i]!;
        const last = Number.isNaN(listedLast) ? h.journal.lastPosition(stream) : listedLast;
        // Nothing journaled past it, or only inputs whose outputs the last clean stop published:
        // restored when first used, or in the background (warm_up.ts), what is past it then.
        if (last <= snap.pos) slot.dormant = { snap, failed };
        else if (last <= slot.publishedPos) pass.deferred.defer(slot, snap);
        else slot.inst = ActorInstance.restore(def, key, snap);
        pass.resumeAfter = Math.max(pass.resumeAfter, snap.srcPos);
        if (last < snap.pos && h.journal.advance) {
          if (last > 0) {
            h.log(
              `${stream}: the journal ends at position ${last}, before its snapshot at ` +
                `${snap.pos}; positions continue after ${snap.pos}`,
            );
          } else unjournaled++;
          h.journal.advance(stream, snap.pos);
        }
      }
      // A dormant instance has nothing journaled past its snapshot: no record of it is read, and
      // it has no loss to find (a start of a fleet host leaves nearly all of them dormant).
      if (slot.dormant === undefined) {
        pass.after.set(stream, snap?.pos ?? 0);
        const start = snap?.pos ?? 0, src = snap?.srcPos ?? 0;
        pass.track.set(slot, { expected: start + 1, src, start, losses: [], hold: undefined });
      }
      pass.pending.push(slot);
    }
    if (unjournaled > 0) {
      h.log(
        `${unjournaled} instance(s) have no journal records left (compacted, or lost): ` +
          `positions continue after their snapshots`,
      );
    }
  }

  /**
   * Folds the journal past the snapshots into the instances in one pass, up to each stream's
   * first hole, noting the positions it lacks (losses) and the instances that throw (rebuilt the
   * careful way afterwards).
   */
  async #foldJournal(pass: RecoveryPass): Promise<void> {
    const h = this.#access;
    // The streams `after` does not name are read past Infinity: not at all. The records of the
    // streams of other kinds and partitions would be passed over, and a dormant one has none.
    for await (const batch of recordBatches(h.journal, pass.after, Infinity)) {
      this.#goOn(pass, "folding the journal");
      for (const rec of batch) this.#foldRecord(pass, rec);
    }
    for (const [slot, t] of pass.track) {
      const last = h.journal.lastPosition(slot.stream);
      if (last >= t.expected) this.#lost(pass, slot, t, last);
      if (t.rebuilding && !t.hold) this.#goOnRebuilding(pass, slot, t);
    }
  }

  /** Folds one journaled record of #foldJournal's pass (or holds it, or puts it in the tail). */
  #foldRecord(pass: RecoveryPass, rec: JournalRecord): void {
    const h = this.#access;
    const slot = h.slots.get(rec.stream);
    if (!slot || slot.status !== "recovering") return;
    const t = pass.track.get(slot);
    if (t === undefined) return; // dormant: the journal is read past its snapshot, which is last
    const record = decodeInputRecord(rec.data);
    if (rec.pos > t.expected) this.#lost(pass, slot, t, rec.pos - 1);
    t.expected = rec.pos + 1;
    const seenSrc = pass.seenSrc;
    if (record.srcPos > seenSrc) pass.seenSrc = record.srcPos;
    if (t.hold) {
      if (!this.#endsHold(pass, slot, t, rec.pos, record)) {
        t.hold.note(record, rec.data, seenSrc);
        return;
      }
    } else if (record.kind === "void" && voidedRange(record).from > t.start) {
      pass.broken.add(slot); // it voids records folded already: rebuilt the careful way
    }
    if (record.srcPos > pass.resumeAfter) pass.resumeAfter = record.srcPos;
    if (record.srcPos > t.src) t.src = record.srcPos;
    if (t.rebuilding && (record.kind === "ctl" || record.kind === "tick")) {
      t.rebuilding.ids.add(decodeEnvelope(record.payload).id);
    }
    // Perhaps the input the host died on (its stream's last, unless the last clean stop had
    // published its outputs: its step returned), or one whose step ran past its deadline (its
    // stream's later inputs journaled as a worker thread spun on it): applied alone once the
    // losses are judged (#applyTail), the records after it waiting with it.
    const last = rec.pos === h.journal.lastPosition(rec.stream) && rec.pos > slot.publishedPos;
    const alone = APPLIED_KINDS.has(record.kind) &&
      (last || h.overrun?.journaledAt(rec.stream, rec.pos, record.srcPos) === true);
    if (!alone && pass.tail.length === 0 && pass.deferred.keep(slot, rec.pos, record, rec.data)) {
      return;
    }
    if (alone || pass.tail.length > 0) {
      pass.tail.push({ slot, pos: rec.pos, record: decodeInputRecordCopy(rec.data), alone });
      return;
    }
    this.#fold(pass, slot, rec.pos, record, false);
  }

  /**
   * Goes on with a rebuild an earlier start began and a crash cut short (the stream's inputs
   * applied again stop below those its void record voided): the input resumes after the last
   * one applied, and what the rebuild held and had not applied yet is held again.
   */
  #goOnRebuilding(pass: RecoveryPass, slot: Slot, t: Track): void {
    const { hold, ids } = t.rebuilding!;
    if (t.src >= hold.maxSrc) return;
    pass.rebuildAfter = Math.min(pass.rebuildAfter, t.src);
    slot.rebuildUntil = hold.maxSrc;
    const inputs = hold.inputs().filter((i) => !ids.has(decodeEnvelope(i.record.payload).id));
    this.held.hold(slot, inputs);
    this.#access.log(
      `${slot.stream}: its rebuild stopped at source position ${t.src} (the inputs it voided ` +
        `went to ${hold.maxSrc}); it goes on from there` +
        (inputs.length > 0 ? `, with ${inputs.length} control or tick inputs held again` : ""),
    );
  }

  /**
   * Whether `record`, at `pos` in a held stream, ends the hold: a void record of the hole and
   * all after it (the loss was rebuilt by an earlier start), or a starting configuration (the
   * instance started afresh there, so what came before it no longer counts).
   */
  #endsHold(pass: RecoveryPass, slot: Slot, t: Track, pos: number, record: InputRecord): boolean {
    const hold = t.hold!;
    if (record.kind === "void") {
      if (!hold.voidedBy(voidedRange(record), pos)) return false;
      t.rebuilding = { hold, ids: new Set() };
    } else if (record.kind === "init") {
      this.#access.log(
        `${slot.stream}: starts afresh at position ${pos}, after the inputs the journal lost`,
      );
      // What came before was applied (by the instance's earlier life): the input is past it.
      if (hold.maxSrc > pass.resumeAfter) pass.resumeAfter = hold.maxSrc;
    } else {
      return false;
    }
    t.losses = t.losses.filter((loss) => loss.from < hold.from);
    t.hold = undefined;
    return true;
  }

  /** Applies the inputs the host may have died on, alone, and the records among them. */
  async #applyTail(pass: RecoveryPass): Promise<void> {
    if (pass.tail.length === 0) return;
    const h = this.#access;
    const skipped = await applyTail(pass.tail, {
      ...h,
      crashAttemptsMax: h.supervision.crashAttemptsMax,
      broken: (slot) => pass.broken.has(slot),
      fold: (slot, pos, record) => this.#fold(pass, slot, pos, record, false),
    });
    if (skipped) pass.crashSkips = true;
  }

  /** Folds the record at `pos` into `slot`'s instance and publishes its outputs. */
  #fold(pass: RecoveryPass, slot: Slot, pos: number, record: InputRecord, voided: boolean): void {
    const h = this.#access;
    this.#wake(pass, slot);
    if (pass.broken.has(slot)) return;
    if (!slot.inst && record.kind !== "init" && !voided) {
      // Its starting configuration was lost: the kind's current one stands in (loss accepted).
      slot.inst = ActorInstance.create(slot.def, slot.key, h.config(slot.def.kind));
      slot.inst.skip(pos - 1, 0);
    }
    // Under the step watchdog: a step that never returns ends the host, and the next start skips
    // its input (#applyTail), wherever the journal holds it.
    h.watch?.begin(slot, pos, record.srcPos);
    try {
      // Outputs past what the last clean stop published go again: after a crash, the journal
      // tail's may have been lost in a send buffer. Their ids let consumers drop duplicates.
      const step = {
        pos,
        record,
        decode: h.decode,
        outputs: pos > slot.publishedPos,
        voided,
        skipped: isSkipped(slot, pos),
      };
      const { inst, outputs } = foldInput(slot.def, slot.key, slot.inst, step);
      slot.inst = inst;
      if (outputs === undefined) return;
      h.publish(outputs);
      slot.tally.outputs += outputs.length;
      slot.publishedPos = Math.max(slot.publishedPos, pos);
    } catch {
      pass.broken.add(slot); // rebuilt afterwards, the careful way
    } finally {
      h.watch?.end();
    }
  }

  /** Has the host judge the losses: a throw refuses the start, before anything is written. */
  #judgeLosses(pass: RecoveryPass): Promise<LossPlan> {
    const all = [...pass.track.values()].flatMap((t) => t.losses);
    return this.#access.judgeLosses(all.filter((loss) => !this.#upgradeLoss(loss)));
  }

  /**
   * Acts on the judged losses. A stream whose first loss the input gives back has the records
   * after its hole voided, and resumes from the input after the hole's source position, in
   * order; a stream whose first loss is accepted folds what follows its hole as journaled (its
   * later losses accepted with it).
   */
  async #resolveLosses(pass: RecoveryPass, plan: LossPlan): Promise<void> {
    const h = this.#access;
    const rebuilt = new Set(plan.rebuilt), judged = new Set([...plan.rebuilt, ...plan.accepted]);
    for (const [slot, t] of pass.track) {
      const hold = t.hold;
      if (!hold) continue;
      const rebuild = rebuilt.has(t.losses[0]!);
      for (const loss of t.losses) {
        if (rebuild) h.log(`journal lost ${describeLoss(loss)}: reading them again from the input`);
        else if (judged.has(loss)) h.log(`journal lost ${describeLoss(loss)}: accepted as lost`);
      }
      if (rebuild) {
        await this.#voidAfterHole(slot, hold);
        pass.rebuildAfter = Math.min(pass.rebuildAfter, hold.srcAfter);
      } else {
        await this.#foldAfterHole(pass, slot, hold);
      }
      t.hold = undefined;
    }
  }

  /**
   * Voids the positions from `hold`'s hole to the stream's last with one journaled void record,
   * and holds the inputs the input cannot give again for their place among those it gives.
   */
  async #voidAfterHole(slot: Slot, hold: StreamHold): Promise<void> {
    const h = this.#access;
    const last = h.journal.lastPosition(slot.stream);
    const pos = await h.journal.append(
      slot.stream,
      encodeVoidRecord(slot.stream, hold.from, last),
    );
    slot.inst?.skip(pos, 0);
    if (hold.maxSrc > hold.srcAfter) slot.rebuildUntil = hold.maxSrc;
    const inputs = hold.inputs();
    h.log(
      `${slot.stream}: positions ${hold.from}-${last} voided (the loss and ${hold.records} ` +
        `record${hold.records === 1 ? "" : "s"} after it), ` +
        `at position ${pos}; every input after source position ${hold.srcAfter} is applied ` +
        `again, in order` +
        (inputs.length > 0
          ? `, with ${inputs.length} control or tick inputs held for their place`
          : ""),
    );
    this.held.hold(slot, inputs);
  }

  /** Folds what the journal holds past an accepted loss, as journaled. */
  async #foldAfterHole(pass: RecoveryPass, slot: Slot, hold: StreamHold): Promise<void> {
    // Applied: the input is past it.
    if (hold.maxSrc > pass.resumeAfter) pass.resumeAfter = hold.maxSrc;
    const records: Array<{ pos: number; data: Uint8Array }> = [];
    for await (const rec of this.#access.journal.read(slot.stream, hold.from - 1)) {
      records.push({ pos: rec.pos, data: rec.data.slice() });
    }
    const voided = VoidedPositions.of(records);
    for (const rec of records) {
      this.#fold(pass, slot, rec.pos, decodeInputRecord(rec.data), voided.has(rec.pos));
    }
  }

  /**
   * Whether `loss` is what an upgrade of the stream's kind leaves: the journal's start, compacted
   * behind a snapshot the new version cannot read. The old version applied those inputs; the
   * instance starts afresh on what the journal still holds, with the kind's current
   * configuration, and says so. Not damage, so not refused.
   */
  #upgradeLoss(loss: JournalLoss): boolean {
    const up = this.#access.snapshotter.upgraded.get(loss.stream);
    if (!up || loss.from !== 1 || loss.to > up.pos) return false;
    this.#access.log(
      `${loss.stream}: its kind was upgraded (version ${up.version} state cannot be read); ` +
        `inputs 1-${loss.to}, applied by the old version and compacted, are not replayed: the ` +
        `instance starts afresh after them`,
    );
    return true;
  }

  /**
   * Restores `slot`'s instance now when its tail was left for later (deferred_tails.ts), and
   * folds what was kept for it: something past the plain case came.
   */
  #wake(pass: RecoveryPass, slot: Slot): void {
    pass.deferred.wake(slot, (pos, record) => this.#fold(pass, slot, pos, record, false));
  }

  /** Notes the loss of `slot`'s positions from `t.expected` to `to`; holds the stream. */
  #lost(pass: RecoveryPass, slot: Slot, t: Track, to: number): void {
    this.#wake(pass, slot); // a void record, or the records after the hole, go to its instance
    const loss = { stream: slot.stream, from: t.expected, to, srcAfter: t.src };
    t.losses.push({ ...loss, init: t.expected === 1 });
    t.hold ??= new StreamHold(t.expected, t.src);
  }

  /** Puts a slot that `recoverAll` rebuilt to work, or forgets it when nothing was left of it. */
  #settle(pass: RecoveryPass, slot: Slot): void {
    const h = this.#access;
    const snaps = h.snapshotter;
    pass.deferred.settle(slot, {
      decode: h.decode,
      failed: (woken, err) => h.failed(woken, err, -1),
      watch: h.watch,
      woke: (woken) => {
        if (snaps.paysOff(woken)) snaps.capture(woken);
        snaps.noteNews(woken);
      },
    });
    if (slot.dormant !== undefined) {
      // Restored from its snapshot (and its tail) when first used: nothing to publish.
      const at = positionsOf(slot);
      slot.status = "running";
      slot.srcPosMax = Math.max(slot.srcPosMax, at.srcPos);
      slot.publishedPos = Math.max(slot.publishedPos, at.pos);
    } else if (!slot.inst) {
      // No snapshot (or one of another version) and no records left: compacted away.
      h.log(
        `${slot.stream}: no usable snapshot and no journal records left; it starts afresh on ` +
          `its next input`,
      );
      h.slots.delete(slot.stream);
      h.metrics.instances.dec({ kind: slot.def.kind });
    } else {
      slot.status = "running";
      slot.srcPosMax = Math.max(slot.srcPosMax, slot.inst.srcPos);
      slot.publishedPos = Math.max(slot.publishedPos, slot.inst.pos);
      // Snapshotted when it pays (a long replay), or when its stored snapshot is of an older
      // version: else the next start replays what this one did, which is as exact.
      if (snaps.paysOff(slot) || snaps.upgraded.has(slot.stream)) snaps.capture(slot);
      snaps.noteNews(slot);
    }
  }

  /** Rebuilds one instance from its snapshot and journal, skipping poison inputs. */
  restart(slot: Slot): Promise<void> {
    return rebuildInstance(this.#access, slot);
  }
}
