/**
 * A host's snapshots and journal compaction. Snapshots are captured from live instances, queued,
 * and saved in batches, each only after the journal is synced up to it (a snapshot is never ahead
 * of the durable journal); after saving, journal segments that every saved snapshot covers are
 * dropped, at most every `compactEveryMs`. A snapshot of another machine version is discarded on
 * load, so that the instance is rebuilt from its journal.
 */
import { parseStream, type Slot } from "../instances/mod.ts";
import type { HostMetrics } from "../operations/mod.ts";
import type { Journal } from "../journal/mod.ts";
import type { Snapshot, SnapshotHead, SnapshotStore } from "../snapshots/mod.ts";
import { SnapshotDue } from "./_snapshot_due.ts";
import { notSaved, TakenBatch } from "./_taken_batch.ts";
import { heldStreamsOf, type StoredStreams } from "./_stored_streams.ts";
import { eachWithin } from "./_each_within.ts";
import {
  RestorableLater,
  restorableOf,
  type RestorableSnapshot,
  savedMachineOf,
} from "./restorable_snapshot.ts";

/**
 * Time-based captures in one periodic round at most, unless a host's instances need more to have
 * their turn within `maxAgeMs` (`roundMax`). A capture encodes the instance's state on the
 * host's thread and saves it as a file of its own, so a host of many quiet instances (every one
 * due each period) would otherwise stall a whole round on them; bounded, each instance's snapshot
 * comes every `every_ms` or once per turn of all of them, whichever is longer. With a store
 * without batches each capture is held until its file is written, long enough to be promoted to
 * the old generation, so on a host of many instances the bound is also what paces its full
 * collections, each of which marks every instance's state (a store with batches takes a round's
 * captures into memory it reuses: `#captureInRound`).
 */
export const SNAPSHOTS_PER_ROUND_MAX = 100;

/**
 * Inputs since its last snapshot that make an instance worth a periodic or stopping snapshot, by
 * default (`snapshots.min_inputs`). With fewer, a restart replays them from the journal instead:
 * replaying this many inputs costs about what restoring the instance from its snapshot does, so a
 * restart takes at most about twice its time from fresh snapshots. The ratio of the two is
 * measured with the snapshots packed many to a file, as hosts keep them (`troupe bench
 * remote-write --channels 25000`, the section "Snapshots only where they pay" of
 * docs/channel_cost.md).
 */
export const SNAPSHOT_MIN_INPUTS = 5;

/**
 * Age of its last snapshot past which an instance with news is snapshotted whatever their number,
 * by default (`snapshots.max_age_ms`): five minutes. A slow channel (a sample every 15 s: 20 in
 * that time) is thus snapshotted once per 20 samples rather than each, and the journal kept for
 * it (compaction drops only what every snapshot covers) is at most that much of the host's input.
 */
export const SNAPSHOT_MAX_AGE_MS = 300_000;

/**
 * Saves a flush runs at once, and snapshots a start reads ahead (_snapshot_reads.ts). Each save
 * of a file store waits for its file's and its folder's fsync: one at a time, a host stopping
 * with tens of thousands of instances (each saved then) waited for them end to end; together,
 * the file system's journal commits many fsyncs as one and the folder's fsyncs are shared
 * (file_snapshot_store.ts). Bounded, so the snapshots being written and the I/O queued stay
 * small.
 */
export const SNAPSHOT_SAVES_IN_FLIGHT_MAX = 32;

/** What a snapshotter works with. */
export interface SnapshotterOptions {
  journal: Journal;
  store: SnapshotStore;
  metrics: HostMetrics;
  log: (message: string) => void;
  /** The host clock, in ms. */
  now: () => number;
  /** Milliseconds between journal compactions: 30 s. */
  compactEveryMs?: number;
  /** Whether the host is stopping (its flushes do not compact then; `stopping` does, once). */
  closing: () => boolean;
  /** A snapshot that is no instance's, saved with each batch when there is one (the host's edge
   *  decisions: see edge_decisions.ts), so that compaction is never held back by its records. */
  extra?: () => Snapshot | undefined;
  /** Told of each snapshot `extra` gave once the store saved it. */
  extraSaved?: (snap: Snapshot) => void;
  /**
   * Inputs since its last snapshot that make an instance worth a periodic or stopping snapshot
   * (`snapshots.min_inputs`). Default 1: every instance with news, as a host built in code (the
   * simulator, a recording) had it.
   */
  minInputs?: number;
  /**
   * Age of its last snapshot past which an instance with fewer news than `minInputs` is taken
   * anyway (`snapshots.max_age_ms`), so that a slow channel's journal is not kept for ever.
   */
  maxAgeMs?: number;
}

/** Saves instances' snapshots and compacts the journal behind them. */
export class Snapshotter {
  readonly #options: SnapshotterOptions;
  #queue = new Map<string, Snapshot>();
  /** The position of each stream's newest saved snapshot: what compaction may drop up to. */
  readonly savedPos = new Map<string, number>();
  /**
   * Streams whose snapshot was of another version of their kind (an upgrade of troupe), with
   * that snapshot's position and version: what compaction dropped before it cannot be replayed
   * by the new version (see recovery.ts).
   */
  readonly upgraded = new Map<string, { pos: number; version: number }>();
  #lastCompactMs = 0;
  /** The instances the periodic rounds look at (_snapshot_due.ts). */
  readonly #due = new SnapshotDue();
  /** `minInputs`, read for each input told (`noteNews`). */
  readonly #minInputs: number;
  #saving: Promise<void> | undefined;
  /** The saves of the flush in progress: what another flush, or a stop's saves, waits for. */
  #saves: Promise<void> | undefined;
  /** The compaction in progress. */
  #compacting: Promise<void> | undefined;
  /** The snapshot that is no instance's, taken alone by a round (captureExtra). */
  #extraTaken: Snapshot | undefined;
  /**
   * The periodic rounds' captures not yet handed to a flush, encoded into a batch of the store's
   * as they are taken (a store that has batches: `SnapshotStore.batch`), so that a capture holds
   * no buffer of its own while it waits for the journal's sync and its write.
   */
  #round: TakenBatch | undefined;

  constructor(options: SnapshotterOptions) {
    this.#options = options;
    this.#minInputs = options.minInputs ?? 1;
  }

  /** Captures the slot's instance now and saves it in the background. */
  capture(slot: Slot): void {
    if (this.#take(slot)) this.#save();
  }

  /**
   * The snapshot that is no instance's, when it has one due, taken and saved alone: a round that
   * took no instance's calls it, as `extra` is otherwise taken with their batches.
   */
  captureExtra(): void {
    if (this.#queue.size > 0 || this.#round !== undefined) return;
    // One taken already waits when a flush was past its batches (compacting): saved now.
    this.#extraTaken ??= this.#options.extra?.();
    if (this.#extraTaken !== undefined) this.#save();
  }

  /** Saves what is taken in the background. */
  #save(): void {
    // A journal that cannot sync (a full disk) fails the batch; the host reports that error.
    this.#saving ??= this.flush()
      .catch((err) => this.#options.log(`snapshots not saved: ${(err as Error).message}`))
      .finally(() => (this.#saving = undefined));
  }

  /** Captures the slot's instance now into the queue of snapshots to save: whether it did. */
  #take(slot: Slot): boolean {
    const snap = this.#snapshotOf(slot);
    if (snap === undefined) return false;
    this.#queue.set(slot.stream, snap);
    return true;
  }

  /**
   * The slot's instance's snapshot now (its news then counted from it), unless it has none;
   * `detached` as ActorInstance.snapshot takes it (false: encoded before anything is applied).
   */
  #snapshotOf(slot: Slot, detached = true): Snapshot | undefined {
    const inst = slot.inst;
    if (!inst) return undefined;
    if (slot.rebuildUntil !== undefined) {
      if (inst.srcPos < slot.rebuildUntil) return undefined; // a rebuild under way (_slot.ts)
      slot.rebuildUntil = undefined;
    }
    const s = inst.snapshot(detached);
    inst.sinceSnapshot = 0;
    return {
      stream: slot.stream,
      version: slot.def.version,
      pos: s.pos,
      machine: savedMachineOf(s),
      kernel: s.kernel,
      meta: { srcPos: s.srcPos },
    };
  }

  /**
   * The slot's instance has had an input (applied or skipped) since its last snapshot, or has
   * come back running with some: the periodic rounds look at it from now on (see
   * _snapshot_due.ts). Called for each input: it costs a field's test when the slot is indexed.
   */
  noteNews(slot: Slot): void {
    const state = slot.snapIndex;
    if (state === "ready" || state === "period") return; // looked at in time already
    const inst = slot.awake; // a dormant instance has no news: its snapshot is stored
    if (inst === undefined || inst.sinceSnapshot === 0) return;
    this.#due.noteNews(slot, inst.sinceSnapshot >= this.#minInputs);
  }

  /**
   * As a host stops: captures the running instances a snapshot pays for (`paysOff`) and saves
   * them, a store's `savesInFlight` at a time, each such batch taken while the one before is
   * written: at most two batches are held, not every instance's snapshot at once, which each full
   * collection would mark again while they were written.
   */
  async saveStopping(slots: Iterable<Slot>): Promise<void> {
    const o = this.#options;
    const size = Math.max(1, o.store.savesInFlight ?? SNAPSHOT_SAVES_IN_FLIGHT_MAX);
    // A round's saves in progress go first: a stream's saves must not overtake one another. Not
    // the compaction after them: a stop does its own, or leaves it (`Journal.compactsAtStop`).
    let writing: Promise<void> = this.#saves ?? Promise.resolve();
    if (o.store.batch) return this.#saveStoppingBatched(slots, size, writing);
    for (const slot of slots) {
      if (!this.paysOff(slot) || !this.#take(slot) || this.#queue.size < size) continue;
      const batch = [...this.#queue.values()];
      this.#queue.clear();
      await o.journal.sync(); // a snapshot must never be ahead of the durable journal
      await writing;
      writing = this.#saveBatch(batch); // its saves begin now; the next batch is taken meanwhile
    }
    await writing;
    await this.flush();
  }

  /**
   * `saveStopping` with a store that writes batches (`SnapshotStore.batch`): each snapshot is
   * encoded into its batch as it is taken, so that only its bytes are held until it is written.
   * Up to the store's `batchesInFlight` batches are written at once while the next is taken.
   */
  async #saveStoppingBatched(
    slots: Iterable<Slot>,
    size: number,
    before: Promise<void>,
  ): Promise<void> {
    const o = this.#options, inFlight = Math.max(1, o.store.batchesInFlight ?? 1);
    const writing: Promise<boolean>[] = [];
    const write = async (taken: TakenBatch) => {
      await o.journal.sync(); // a snapshot must never be ahead of the durable journal
      await before; // a round's saves in progress are given the store first
      while (writing.length >= inFlight) await writing.shift();
      writing.push(this.#writeTaken(taken)); // written now; the next batch is taken meanwhile
    };
    let batch = new TakenBatch(o.store.batch!());
    for (const slot of slots) {
      if (!this.paysOff(slot)) continue;
      // Encoded into the batch at once: nothing of the instance's needs copying first.
      const snap = this.#snapshotOf(slot, false);
      if (snap === undefined || !this.#addTo(batch, snap) || batch.size < size) continue;
      await write(batch);
      batch = new TakenBatch(o.store.batch!());
    }
    if (batch.size > 0) await write(batch);
    await before;
    await Promise.all(writing);
    await this.flush();
  }

  /** Adds `snap` to `batch`: whether it could (a snapshot that cannot be encoded is said). */
  #addTo(batch: TakenBatch, snap: Snapshot): boolean {
    try {
      batch.add(snap);
      return true;
    } catch (err) {
      this.#options.log(`snapshot of ${snap.stream} failed: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * Writes a batch taken by a stop or a round, and counts its snapshots saved (or says they were
   * not): whether they were.
   */
  async #writeTaken(taken: TakenBatch): Promise<boolean> {
    const o = this.#options;
    if (taken.size === 0) return false;
    try {
      await taken.batch.write();
    } catch (err) {
      o.log(notSaved(taken.streams, (err as Error).message));
      return false;
    }
    const { streams, positions } = taken;
    for (let i = 0; i < streams.length; i++) this.savedPos.set(streams[i]!, positions[i]!);
    taken.kinds.forEach((kind, i) => o.metrics.snapshots.inc({ kind }, taken.counts[i]!));
    return true;
  }

  /**
   * Time-based captures a round of `roundMs` takes at most on a host of `instances`:
   * SNAPSHOTS_PER_ROUND_MAX, or enough for every one of them to have its turn within `maxAgeMs`
   * (a bound: a round takes only those with news that pay off, which may be all of them at once).
   * The journal keeps what no snapshot covers (compaction drops a segment once every stream in it
   * has a snapshot past it), so the turn is how much of the host's input its disk holds, and the
   * segments' tables of streams its memory (some 66 bytes a record): at 400,000 instances, 100 a
   * second is a turn of 67 minutes, a journal of that much input growing towards gigabytes of
   * heap; with `maxAgeMs` five minutes, 1,334 a second keep it within about twice that age (an
   * instance waits its age, then its turn), at the price of the captures' work (what it costs a
   * host: docs/channel_cost.md). Without `maxAgeMs` (a host built in code), the fixed bound.
   */
  roundMax(roundMs: number, instances: number): number {
    const maxAgeMs = this.#options.maxAgeMs ?? 0;
    if (!(maxAgeMs > 0)) return SNAPSHOTS_PER_ROUND_MAX;
    return Math.max(SNAPSHOTS_PER_ROUND_MAX, Math.ceil((instances * roundMs) / maxAgeMs));
  }

  /**
   * Captures, given the time `now` and a period, the instances `#paysOff` names whose last
   * capture is at least that old, at most `max` of them (`SNAPSHOTS_PER_ROUND_MAX`). It looks
   * only at those its index holds (`noteNews`), in the order they came; a call that reaches the
   * bound says so (true), and the next call goes on with those not looked at yet, so that every
   * instance has its turn.
   */
  captureDue(now: number, everyMs = 0, max = SNAPSHOTS_PER_ROUND_MAX): boolean {
    const due = this.#due;
    due.wake(now);
    let taken = 0;
    for (const slot of due.ready) {
      const inst = slot.inst;
      if (inst === undefined || slot.status === "stopped" || inst.sinceSnapshot === 0) {
        due.drop(slot);
        continue;
      }
      // Recovering or in backoff with its instance: looked at again next round.
      if (slot.status !== "running") continue;
      if (now - slot.lastSnapMs >= everyMs && this.#paysOff(slot, now)) {
        this.#captureInRound(slot);
        slot.lastSnapMs = now;
        taken++;
      }
      this.#setAside(slot, everyMs);
      if (taken >= max) break;
    }
    if (this.#round !== undefined) this.#save();
    return taken >= max;
  }

  /**
   * A round's capture: encoded at once into the open round batch where the store has batches
   * (the capture supersedes one of the same stream queued before it), else queued as `capture`
   * queues it. A capture held as buffers of its own until its write (the journal's sync first)
   * lives long enough to be promoted, and the array buffers that then die in the old generation
   * start a full collection of the whole heap each 64 MB of them (V8's rule for external memory):
   * at 400,000 instances a round takes 1,334 captures a second.
   */
  #captureInRound(slot: Slot): void {
    const o = this.#options;
    if (o.store.batch === undefined) return this.capture(slot);
    const snap = this.#snapshotOf(slot, false);
    if (snap === undefined) return;
    this.#queue.delete(slot.stream);
    this.#round ??= new TakenBatch(o.store.batch());
    this.#addTo(this.#round, snap);
  }

  /** Puts a slot looked at where its news say: out of the index, or aside till it may be due. */
  #setAside(slot: Slot, everyMs: number): void {
    const since = slot.inst!.sinceSnapshot;
    if (since === 0) return this.#due.drop(slot);
    const { minInputs = 1, maxAgeMs = 0 } = this.#options;
    // A capture that waits for a rebuild (capture()) leaves the news: its period starts again.
    if (since >= minInputs) return this.#due.setAside(slot, slot.lastSnapMs + everyMs, false);
    // No round has seen it yet (its age starts at the first look its period lets through).
    const last = slot.lastSnapMs;
    this.#due.setAside(slot, last === 0 ? everyMs : last + Math.max(everyMs, maxAgeMs), true);
  }

  /**
   * Whether a snapshot of the slot's instance pays for itself at `now`: it has `minInputs` inputs
   * since its last one (what a restart would otherwise replay), or its last one is `maxAgeMs`
   * old (what the journal must otherwise keep). The age is that of its last periodic capture
   * (`lastSnapMs`; one `every_inputs` took since is not counted, which at worst takes it early);
   * an instance no round took yet starts its age now, at the first look, not at the epoch.
   */
  #paysOff(slot: Slot, now: number): boolean {
    const { minInputs = 1, maxAgeMs = 0 } = this.#options;
    if (slot.inst!.sinceSnapshot >= minInputs) return true;
    if (slot.lastSnapMs === 0) {
      slot.lastSnapMs = now;
      return false;
    }
    return now - slot.lastSnapMs >= maxAgeMs;
  }

  /** Whether the slot's instance runs and has had inputs since its last snapshot. */
  #isDue(slot: Slot): boolean {
    const inst = slot.awake; // a dormant instance has no news: its snapshot is stored
    return inst !== undefined && slot.status === "running" && inst.sinceSnapshot !== 0;
  }

  /**
   * Whether the slot's instance is worth a snapshot as the host stops or once it was rebuilt:
   * `minInputs` inputs since its last one (`sinceSnapshot`), what the next start would replay.
   * Not its age: the journal keeps what no snapshot covers, and a round takes the old ones later;
   * on a host whose rounds are behind (more instances due than a round takes), most are old.
   */
  paysOff(slot: Slot): boolean {
    const { minInputs = 1 } = this.#options;
    return this.#isDue(slot) && slot.inst!.sinceSnapshot >= minInputs;
  }

  /**
   * Saves every captured snapshot, after syncing the journal up to them, after the saves of a
   * flush in progress; then compacts, unless the host is closing.
   */
  async flush(): Promise<void> {
    if (this.#saves) await this.#saves;
    const saves = this.#flushSaves();
    this.#saves = saves;
    try {
      await saves;
    } finally {
      if (this.#saves === saves) this.#saves = undefined;
    }
    if (!this.#options.closing()) await this.#compact();
  }

  async #flushSaves(): Promise<void> {
    const o = this.#options;
    while (
      this.#round !== undefined || this.#queue.size > 0 || this.#extraTaken !== undefined
    ) {
      if (this.#round !== undefined) {
        await this.#writeRound(this.#round);
        continue;
      }
      const batch = [...this.#queue.values()];
      this.#queue.clear();
      const extra = this.#extraTaken ?? o.extra?.();
      this.#extraTaken = undefined;
      if (extra) batch.push(extra);
      // A snapshot must never be ahead of the durable journal.
      await o.journal.sync();
      await this.#saveBatch(batch, extra);
    }
  }

  /**
   * Writes the open round batch `round` (the next captures open another), with the snapshot
   * that is no instance's when one is due, after syncing the journal up to them.
   */
  async #writeRound(round: TakenBatch): Promise<void> {
    const o = this.#options;
    this.#round = undefined;
    let extra = this.#extraTaken ?? o.extra?.();
    this.#extraTaken = undefined;
    if (extra !== undefined && !this.#addTo(round, extra)) extra = undefined;
    // A snapshot must never be ahead of the durable journal.
    await o.journal.sync();
    if (await this.#writeTaken(round) && extra !== undefined) o.extraSaved?.(extra);
  }

  /**
   * Saves `batch`, the store's `savesInFlight` at once (the first begun before this returns);
   * each stream is once in a batch, so its saves cannot overtake one another.
   */
  async #saveBatch(batch: readonly Snapshot[], extra?: Snapshot): Promise<void> {
    const o = this.#options;
    const inFlight = o.store.savesInFlight ?? SNAPSHOT_SAVES_IN_FLIGHT_MAX;
    // The streams not saved, said in one line with the first one's error, not a line a stream
    // (a lease lost as a partition recovers refuses every save of its thousands).
    const failed: string[] = [];
    let firstError = "";
    await eachWithin(batch, inFlight, async (snap) => {
      try {
        await o.store.save(snap);
        this.savedPos.set(snap.stream, snap.pos);
        o.metrics.snapshots.inc({ kind: parseStream(snap.stream)?.kind ?? "?" });
        if (snap === extra) o.extraSaved?.(snap);
      } catch (err) {
        if (failed.push(snap.stream) === 1) firstError = (err as Error).message;
      }
    });
    if (failed.length > 0) o.log(notSaved(failed, firstError));
  }

  /**
   * As a host stops: snapshots the instances a snapshot pays for (`paysOff`), then tells `notes`,
   * when given (the host's outputs were flushed), the position through which each other instance
   * published its outputs, and saves the snapshot that is no instance's (the edge's, which keeps
   * them): the next start replays those instances without publishing their outputs again. Then
   * drops the journal's segments the snapshots cover.
   */
  async stopping(
    slots: ReadonlyMap<string, Slot>,
    notes?: { notePublished(published: Map<string, number>): void },
  ): Promise<void> {
    await this.saveStopping(slots.values());
    if (notes) {
      const published = new Map<string, number>();
      for (const slot of slots.values()) {
        // A dormant one's too: a start may leave it inputs past its snapshot (deferred_tails.ts).
        const up = slot.awake !== undefined || slot.dormant !== undefined;
        if (up && slot.publishedPos > (this.savedPos.get(slot.stream) ?? 0)) {
          published.set(slot.stream, slot.publishedPos);
        }
      }
      notes.notePublished(published);
    }
    const o = this.#options, extra = o.extra?.();
    if (extra) {
      await o.journal.sync();
      try {
        await o.store.save(extra);
        this.savedPos.set(extra.stream, extra.pos);
        o.extraSaved?.(extra);
      } catch (err) {
        o.log(`snapshot of ${extra.stream} failed: ${(err as Error).message}`);
      }
    }
    // What the stop's snapshots cover goes now, after a compaction in progress: the next start
    // reads the table of streams of every segment the journal keeps, and would keep them until
    // its first compaction.
    if (o.journal.compactsAtStop !== false) {
      await this.#compacting;
      await this.#compact(true);
    }
  }

  /** What a start asks of the stored snapshots, where the store answers at once (`held`). */
  heldStreams(): StoredStreams | undefined {
    return heldStreamsOf(this.#options.store);
  }

  /** The streams with a stored snapshot. */
  streams(): Promise<string[]> {
    return this.#options.store.list();
  }

  /** The slot's newest snapshot, unless there is none or it is of another machine version. */
  load(slot: Slot): Promise<RestorableSnapshot | undefined> {
    return this.loadStream(slot.stream, slot.def.version);
  }

  /** `stream`'s newest snapshot, unless there is none or it is of another than `version`. */
  async loadStream(stream: string, version: number): Promise<RestorableSnapshot | undefined> {
    const store = this.#options.store;
    const snap = store.loadHead ? await store.loadHead(stream) : await store.load(stream);
    return this.#restorable(stream, version, snap);
  }

  /** Whether `loadStreamNow` gives `stream`'s snapshot: its store holds its head in memory. */
  hasStreamNow(stream: string): boolean {
    return this.#options.store.hasHeadNow?.(stream) ?? false;
  }

  /**
   * Notes what `stream`'s stored snapshot covers, where the store holds its head in memory, for a
   * stream this host does not take (a kind it no longer runs, another's partition): its records
   * up to there then hold no journal segment back. The rest of its records stay.
   */
  noteStoredNow(stream: string): void {
    const head = this.#options.store.headNow?.(stream);
    if (head !== undefined && !this.savedPos.has(stream)) this.savedPos.set(stream, head.pos);
  }

  /** `loadStream` at once, where `hasStreamNow`; null where the store does not hold it now. */
  loadStreamNow(stream: string, version: number): RestorableSnapshot | undefined | null {
    const head = this.#options.store.headNow?.(stream);
    return head === undefined ? null : this.#restorable(stream, version, head);
  }

  /** What `loadStream` gives of `snap`, `stream`'s newest snapshot or head as loaded. */
  #restorable(
    stream: string,
    version: number,
    snap: Snapshot | SnapshotHead | undefined,
  ): RestorableSnapshot | undefined {
    if (!snap) return undefined;
    if (snap.version !== version) {
      this.#options.log(
        `${stream}: snapshot of version ${snap.version} discarded (machine version is ` +
          `${version}); replaying the journal from the start`,
      );
      this.upgraded.set(stream, { pos: snap.pos, version: snap.version });
      return undefined;
    }
    return "body" in snap ? new RestorableLater(snap) : restorableOf(snap);
  }

  /**
   * Drops journal segments every snapshot covers, at most every `compactEveryMs` (`atOnce`:
   * whenever it last ran); never when the snapshots are kept in memory and the journal is not:
   * the next start would find neither.
   */
  async #compact(atOnce = false): Promise<void> {
    const { journal, store, now, compactEveryMs = 30_000 } = this.#options;
    if (store.volatile && !journal.volatile) return;
    const t = now();
    if (!journal.compact || (!atOnce && t - this.#lastCompactMs < compactEveryMs)) return;
    // One at a time: a flush's compaction is not waited for by the next flush's saves.
    if (this.#compacting !== undefined && !atOnce) return;
    this.#lastCompactMs = t;
    const run = Promise.resolve().then(() => journal.compact!(this.savedPos)).catch((err) =>
      this.#options.log(`journal compaction failed: ${(err as Error).message}`)
    );
    this.#compacting = run;
    await run;
    if (this.#compacting === run) this.#compacting = undefined;
  }
}
