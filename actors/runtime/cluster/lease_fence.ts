/**
 * Fencing: a partition's writer writes only while its lease is fresh. The lease is fresh until a
 * deadline on this process's monotonic clock, set at each renewal to the moment the renewal was
 * sent plus a part of the TTL (the server keeps the key a full TTL past the renewal it stored, so
 * the writer stops before any other host can claim the partition). A host paused past its lease
 * (a GC pause, SIGSTOP) finds the deadline passed at its first append after it wakes: the append is
 * refused, the partition is dropped at once, and nothing more is published or snapshotted for it.
 * The journal's own guard (the expected last subject sequence) still refuses an append that races
 * a new owner's; this check covers the window where the new owner has not appended yet.
 */
import type { Bus, PublishOptions } from "../../../protocol/mod.ts";
import {
  type Journal,
  JournalConflictError,
  type JournalData,
  type StreamMemo,
} from "../journal/mod.ts";
import { describeError } from "../operations/mod.ts";
import type { Snapshot, SnapshotStore } from "../snapshots/mod.ts";

/** A snapshot store whose save may take a guard (the KV store's does; others ignore it). */
type GuardedStore = SnapshotStore & {
  save(snapshot: Snapshot, options: { guard: () => Error | undefined }): Promise<void>;
};

/** Raised by a write refused because its partition's lease is lost. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  readonly partition: number;
  constructor(message: string, options: { partition: number }) {
    super(message);
    this.partition = options.partition;
  }
}

/** The lease of one partition as its writer sees it: its epoch and until when it may write. */
export class LeaseFence {
  readonly partition: number;
  readonly epoch: number;
  #deadlineMs: number;
  #lostWhy: string | undefined;
  #onLost: ((why: string) => void) | undefined;
  /** Writes refused since the lease was lost: appends, publishes, snapshots. */
  refused = 0;
  readonly #clock: () => number;

  /** What the lease is of, in messages: `partition <n>`, or a stage's (`the incident stage`). */
  readonly #name: string;

  constructor(
    partition: number,
    options: { epoch: number; deadlineMs: number; clock?: () => number; name?: string },
  ) {
    this.partition = partition;
    this.#name = options.name ?? `partition ${partition}`;
    this.epoch = options.epoch;
    this.#deadlineMs = options.deadlineMs;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Calls `f` once when the lease is lost (at once if it is already). */
  onLost(f: (why: string) => void): void {
    this.#onLost = f;
    if (this.#lostWhy !== undefined) f(this.#lostWhy);
  }

  /** A renewal stored: writes may go on until `deadlineMs` (monotonic clock). */
  renewed(deadlineMs: number): void {
    if (this.#lostWhy === undefined) this.#deadlineMs = Math.max(this.#deadlineMs, deadlineMs);
  }

  /** Whether the lease was lost; why, when it was. */
  get lost(): string | undefined {
    return this.#lostWhy;
  }

  /** Milliseconds the lease has left (negative once past). */
  leftMs(): number {
    return this.#deadlineMs - this.#clock();
  }

  /** Whether writes may go on; the first look past the deadline loses the lease. */
  fresh(): boolean {
    if (this.#lostWhy !== undefined) return false;
    const left = this.leftMs();
    if (left > 0) return true;
    this.lose(
      `lease of ${this.#name} (epoch ${this.epoch}) expired ${
        (-left).toFixed(0)
      } ms ago without a renewal`,
    );
    return false;
  }

  /** Marks the lease lost (a renewal refused, the deadline passed); tells the owner once. */
  lose(why: string): void {
    if (this.#lostWhy !== undefined) return;
    this.#lostWhy = why;
    this.#onLost?.(why);
  }

  /** For the journal's guard: undefined while fresh, else the error that refuses the write. */
  guard(what = "write the journal"): LeaseLostError | undefined {
    return this.fresh() ? undefined : this.#refuse(what);
  }

  #refuse(what: string): LeaseLostError {
    this.refused++;
    return new LeaseLostError(
      `Cannot ${what} for ${this.#name}: ${this.#lostWhy ?? "its lease is lost"}`,
      { partition: this.partition },
    );
  }

  /** An append to `stream` by `write`, refused once the lease is not fresh. */
  #write(stream: string, write: () => number | Promise<number>): number | Promise<number> {
    if (!this.fresh()) return Promise.reject(this.#refuse(`append to ${stream}`));
    const r = write();
    if (typeof r === "number") return r;
    // Another writer on the partition's journal: stop writing it at once (it is recovered
    // again by whoever holds it next), rather than retry against the other writer.
    return r.catch((err: unknown) => {
      if (err instanceof JournalConflictError) this.lose(describeError(err));
      throw err;
    });
  }

  /** `journal`, with every append refused once the lease is not fresh. */
  journal(journal: Journal): Journal {
    return {
      ...(journal.volatile === undefined ? {} : { volatile: journal.volatile }),
      ...(journal.compactsAtStop === undefined ? {} : { compactsAtStop: journal.compactsAtStop }),
      append: (stream: string, data: JournalData, memo?: StreamMemo) =>
        this.#write(stream, () => journal.append(stream, data, memo)),
      ...(journal.appendMany
        ? {
          appendMany: (stream: string, records: readonly JournalData[]) =>
            this.#write(stream, () => journal.appendMany!(stream, records)) as Promise<number>,
        }
        : {}),
      lastPosition: (s: string) => journal.lastPosition(s),
      streams: () => journal.streams(),
      ...(journal.streamLasts ? { streamLasts: () => journal.streamLasts!() } : {}),
      read: (s: string, after?: number) => journal.read(s, after),
      readAll: (after?: ReadonlyMap<string, number>, unlisted?: number) =>
        journal.readAll(after, unlisted),
      sync: () => journal.sync(),
      stats: () => journal.stats(),
      close: () => journal.close(),
      ...(journal.compact
        ? {
          compact: (upTo: ReadonlyMap<string, number>) =>
            this.fresh() ? journal.compact!(upTo) : Promise.resolve(),
        }
        : {}),
      ...(journal.readAllBatches
        ? {
          readAllBatches: (after?: ReadonlyMap<string, number>, unlisted?: number) =>
            journal.readAllBatches!(after, unlisted),
        }
        : {}),
      ...(journal.damage ? { damage: () => journal.damage!() } : {}),
      ...(journal.advance ? { advance: (s: string, p: number) => journal.advance!(s, p) } : {}),
      ...(journal.prepare ? { prepare: (s: string) => journal.prepare!(s) } : {}),
    };
  }

  /** `bus`, with publishes dropped once the lease is not fresh (no output after the loss). */
  bus(bus: Bus): Bus {
    return {
      publish: (subject: string, data: Uint8Array, options?: PublishOptions) => {
        if (!this.fresh()) {
          this.refused++;
          return;
        }
        bus.publish(subject, data, options);
      },
      subscribe: (pattern, handler, options) => bus.subscribe(pattern, handler, options),
      request: (subject, data, options) => bus.request(subject, data, options),
      flush: () => bus.flush(),
      // The bus is the process's, shared by its partitions: not this partition's to close.
      close: () => Promise.resolve(),
    };
  }

  /** `store`, with snapshots refused once the lease is not fresh. */
  snapshots(store: SnapshotStore): SnapshotStore {
    return {
      // Asked again right before the store replaces the stored snapshot (when it can be asked).
      save: (snapshot: Snapshot) =>
        this.fresh()
          ? (store as GuardedStore).save(snapshot, {
            guard: () => this.guard(`save a snapshot of ${snapshot.stream}`),
          })
          : Promise.reject(this.#refuse(`save a snapshot of ${snapshot.stream}`)),
      load: (stream: string) => store.load(stream),
      list: () => store.list(),
      // Shared by the process's partitions.
      close: () => Promise.resolve(),
    };
  }
}
