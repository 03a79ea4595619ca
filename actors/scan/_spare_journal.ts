/**
 * The next scan's id and journal, made ahead while the service is idle. Opening a scan's file
 * journal (its directory, lock and first segment, synchronous calls) costs a scan's admission
 * 0.5-0.8 ms warm, and more cold or on a slow disk, on the way to its first result: a service
 * that keeps one spare hands it to the next scan instead. A spare never used holds no record: its
 * directory is removed at the next start, as any scan journal without a definition is.
 */
import type { Journal } from "../runtime/mod.ts";
import type { ScanJournals } from "./scan_journals.ts";

/** A scan id and its journal (being) opened. */
export interface ScanSlot {
  scanId: string;
  journal: Promise<Journal>;
}

/** Options of a SpareJournal. */
export interface SpareJournalOptions {
  journals: ScanJournals;
  newId(): string;
  /** Whether a scan already has `scanId` (a spare with it is not handed out). */
  taken(scanId: string): boolean;
}

/** One spare scan slot, made on a timer after `prepare()`, handed out by `take()`. */
export class SpareJournal {
  #options: SpareJournalOptions;
  #spare: ScanSlot | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: SpareJournalOptions) {
    this.#options = options;
  }

  /** The spare if there is a usable one, else a new id with its journal opened now. */
  take(): ScanSlot {
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare !== undefined && !this.#options.taken(spare.scanId)) return spare;
    const scanId = this.#options.newId();
    return { scanId, journal: this.#options.journals.open(scanId) };
  }

  /**
   * Makes a spare on the next turn of the timers (not on the caller's path: a scan that just
   * ended has its end sent first), unless there is one.
   */
  prepare(): void {
    if (this.#closed || this.#spare !== undefined || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed || this.#spare !== undefined) return;
      const scanId = this.#options.newId();
      if (this.#options.taken(scanId)) return;
      let slot: ScanSlot;
      try {
        slot = { scanId, journal: this.#options.journals.open(scanId) };
      } catch {
        return; // as below
      }
      // A spare that cannot open is dropped; the next scan opens its own (and says why it fails).
      slot.journal.catch(() => {
        if (this.#spare === slot) this.#spare = undefined;
      });
      this.#spare = slot;
    }, 0);
  }

  /** Makes no more spares (the one made stays open: the journals' close closes it). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
