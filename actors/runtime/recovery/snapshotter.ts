/**
 * A host's snapshots and journal compaction. Snapshots are captured from live instances, queued,
 * and saved in batches, each only after the journal is synced up to it (a snapshot is never ahead
 * of the durable journal); after saving, journal segments that every saved snapshot covers are
 * dropped, at most every `compactEveryMs`. A snapshot of another machine version is discarded on
 * load, so that the instance is rebuilt from its journal.
 */
import { idsOf, parseStream, type Slot } from "../instances/mod.ts";
import type { HostMetrics } from "../operations/mod.ts";
import type { Journal } from "../journal/mod.ts";
import type { Snapshot, SnapshotStore } from "../snapshots/mod.ts";

/** A snapshot as an instance is restored from it. */
export interface RestorableSnapshot {
  pos: number;
  srcPos: number;
  machine: unknown;
  kernel: Uint8Array;
  config: unknown;
  /** The instance's recent input ids (see input_id_window.ts). */
  ids: string[];
}

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
  /** Whether the host is stopping (no compaction then). */
  closing: () => boolean;
  /** A snapshot that is no instance's, saved with each batch when there is one (the host's edge
   *  decisions: see edge_decisions.ts), so that compaction is never held back by its records. */
  extra?: () => Snapshot | undefined;
}

/** Saves instances' snapshots and compacts the journal behind them. */
export class Snapshotter {
  readonly #o: SnapshotterOptions;
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
  #saving: Promise<void> | undefined;

  constructor(options: SnapshotterOptions) {
    this.#o = options;
  }

  /** Captures the slot's instance now and saves it in the background. */
  capture(slot: Slot): void {
    const inst = slot.inst;
    if (!inst) return;
    if (slot.rebuildUntil !== undefined) {
      if (inst.srcPos < slot.rebuildUntil) return; // a rebuild under way (see _slot.ts)
      slot.rebuildUntil = undefined;
    }
    const s = inst.snapshot();
    inst.sinceSnapshot = 0;
    this.#queue.set(slot.stream, {
      stream: slot.stream,
      version: slot.def.version,
      pos: s.pos,
      machine: { xstate: s.machine, config: s.config, ids: s.ids ?? [] },
      kernel: s.kernel,
      meta: { srcPos: s.srcPos },
    });
    // A journal that cannot sync (a full disk) fails the batch; the host reports that error.
    this.#saving ??= this.flush()
      .catch((err) => this.#o.log(`snapshots not saved: ${(err as Error).message}`))
      .finally(() => (this.#saving = undefined));
  }

  /**
   * Captures every running instance with inputs since its last snapshot: all of them, or, given
   * the time `now` and a period, those whose last capture is at least that old.
   */
  captureDue(slots: Iterable<Slot>, now?: number, everyMs = 0): void {
    for (const slot of slots) {
      const inst = slot.inst;
      if (!inst || slot.status !== "running" || inst.sinceSnapshot === 0) continue;
      if (now !== undefined) {
        if (now - slot.lastSnapMs < everyMs) continue;
        slot.lastSnapMs = now;
      }
      this.capture(slot);
    }
  }

  /** Saves every captured snapshot, after syncing the journal up to them. */
  async flush(): Promise<void> {
    if (this.#saving) await this.#saving;
    const o = this.#o;
    while (this.#queue.size) {
      const batch = [...this.#queue.values()];
      this.#queue.clear();
      const extra = o.extra?.();
      if (extra) batch.push(extra);
      // A snapshot must never be ahead of the durable journal.
      await o.journal.sync();
      for (const snap of batch) {
        try {
          await o.store.save(snap);
          this.savedPos.set(snap.stream, snap.pos);
          o.metrics.snapshots.inc({ kind: parseStream(snap.stream)?.kind ?? "?" });
        } catch (err) {
          o.log(`snapshot of ${snap.stream} failed: ${(err as Error).message}`);
        }
      }
    }
    if (!o.closing()) await this.#compact();
  }

  /** The streams with a stored snapshot. */
  streams(): Promise<string[]> {
    return this.#o.store.list();
  }

  /** The slot's newest snapshot, unless there is none or it is of another machine version. */
  async load(slot: Slot): Promise<RestorableSnapshot | undefined> {
    const snap = await this.#o.store.load(slot.stream);
    if (!snap) return undefined;
    if (snap.version !== slot.def.version) {
      this.#o.log(
        `${slot.stream}: snapshot of version ${snap.version} discarded (machine version is ` +
          `${slot.def.version}); replaying the journal from the start`,
      );
      this.upgraded.set(slot.stream, { pos: snap.pos, version: snap.version });
      return undefined;
    }
    // A snapshot from before the id window has none: it starts empty (inputs applied before the
    // snapshot are still told apart by source position where the input has them).
    const m = snap.machine as { xstate: unknown; config: unknown; ids?: unknown };
    return {
      pos: snap.pos,
      srcPos: Number(snap.meta?.srcPos ?? 0),
      machine: m.xstate,
      kernel: snap.kernel,
      config: m.config,
      ids: idsOf(m.ids),
    };
  }

  /**
   * Drops journal segments every snapshot covers, at most every `compactEveryMs`; never when the
   * snapshots are kept in memory and the journal is not: the next start would find neither.
   */
  async #compact(): Promise<void> {
    const { journal, store, now, compactEveryMs = 30_000 } = this.#o;
    if (store.volatile && !journal.volatile) return;
    const t = now();
    if (!journal.compact || t - this.#lastCompactMs < compactEveryMs) return;
    this.#lastCompactMs = t;
    try {
      await journal.compact(this.savedPos);
    } catch (err) {
      this.#o.log(`journal compaction failed: ${(err as Error).message}`);
    }
  }
}
