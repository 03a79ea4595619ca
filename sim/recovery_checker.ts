/**
 * `recovery_equals_replay`: every live instance of a host, after a recovery and at the end, equals
 * a fresh instance fed its whole journal (kernel bytes, machine snapshot, configuration and
 * positions). The checker keeps a replay per host and instance between checks and continues it.
 */
import {
  ActorInstance,
  type AnyActorDefinition,
  type InstanceSnapshot,
  type JournalRecord,
  parseStream,
} from "../actors/runtime/mod.ts";
import { bytesEqual } from "../protocol/mod.ts";
import type {
  Consumed,
  DecodedFrame,
  DecodedLookup,
  InvariantName,
  LoggedFrame,
} from "./invariants.ts";
import { replayHolds, replayRecords } from "./fault_free_reference.ts";
import { canonicalJson, clip, firstDifference } from "./_value_diff.ts";

/** One instance of a host at a recovery check, as the host had it then. */
export interface RecoveryInstance {
  stream: string;
  /** Its status on the host; only a running instance is compared, one in backoff is not yet. */
  status: string;
  /** The live instance's snapshot; undefined when the host has no instance of the stream. */
  live: InstanceSnapshot | undefined;
}

/** One recovery check of a host: every instance it has equals a fresh replay of its journal. */
export interface RecoveryCheck {
  host: string;
  /** What the check follows, for messages ("recovery", "drain", ...). */
  when: string;
  /** The feed log's head at the check: only frames up to it are known to lookups. */
  head: number;
  instances: RecoveryInstance[];
  /**
   * A full check: each instance's journal as read from the journal itself, by stream. Otherwise
   * the disk's view of the journals (see `RecoveryChecker.records`) is replayed.
   */
  journals?: Map<string, JournalRecord[]>;
}

/** Where a RecoveryChecker finds the logged frames (for lookups): up to the head it is told. */
export interface LoggedFrames {
  /** The frame at `seq` (1-based), which the log holds. */
  entry(seq: number): LoggedFrame;
  /** The frame at `seq` decoded (the same object each time it is asked). */
  decoded(seq: number): DecodedFrame;
}

/** A replay of one instance's journal on one host, kept between checks, and what it consumed. */
interface Shadow {
  inst: ActorInstance;
  consumed: Consumed;
}

/**
 * The recovery checks (`recovery_equals_replay`) of a run, with their state: per host and
 * instance, a replay of its journal kept between checks and continued at the next (the journal's
 * durable prefix never changes; a replay past what a crash lost is dropped), and the disk's view of
 * every journal as the simulator last told it (`records`, `cut`, `patch`). A `full` check reads the
 * journal itself: it continues a kept replay only if the journal holds exactly the records the
 * replay consumed (byte for byte), and otherwise replays the journal afresh. Pure computation over
 * what it is told, so it runs the same in the simulator's thread or on a worker.
 */
export class RecoveryChecker {
  readonly #kinds: ReadonlyMap<string, AnyActorDefinition>;
  readonly #frames: LoggedFrames;
  /** Per `${host} ${stream}`, the disk's view of the journal: the record at position p at p - 1. */
  readonly #views = new Map<string, JournalRecord[]>();
  readonly #shadows = new Map<string, Shadow>();
  #head = 0;

  constructor(kinds: ReadonlyMap<string, AnyActorDefinition>, frames: LoggedFrames) {
    this.#kinds = kinds;
    this.#frames = frames;
  }

  /**
   * The disk's view of the journal of `stream` on `host` now holds its first `base` records as
   * before (it may have been cut back to them) and then the records of `data`, in position order.
   */
  records(host: string, stream: string, base: number, data: readonly Uint8Array[]): void {
    const key = `${host} ${stream}`;
    let view = this.#views.get(key);
    if (!view) this.#views.set(key, view = []);
    if (view.length < base) {
      throw new Error(`Recovery checker: ${key} holds ${view.length} records, told ${base}`);
    }
    view.length = base;
    for (const d of data) view.push({ stream, pos: view.length + 1, data: d });
  }

  /**
   * `host` crashed and its journals lost their unsynced tails: each stream of `lengths` now ends at
   * the given position. Views are cut back, and kept replays that went past them dropped.
   */
  cut(host: string, lengths: ReadonlyMap<string, number>): void {
    for (const [stream, n] of lengths) {
      const view = this.#views.get(`${host} ${stream}`);
      if (view && view.length > n) view.length = n;
    }
    for (const [key, shadow] of this.#shadows) {
      if (!key.startsWith(`${host} `)) continue;
      if (shadow.consumed.length > (lengths.get(shadow.inst.stream) ?? 0)) this.#drop(key);
    }
  }

  /** The bytes of a record in the disk's view changed in place (a sabotage): `data` are the new. */
  patch(host: string, stream: string, pos: number, data: Uint8Array): void {
    const rec = this.#views.get(`${host} ${stream}`)?.[pos - 1];
    if (rec) rec.data = data;
  }

  /** Runs one check; returns its violations, in the order found. */
  check(c: RecoveryCheck): { invariant: InvariantName; message: string }[] {
    const found: { invariant: InvariantName; message: string }[] = [];
    const violate = (message: string) =>
      found.push({ invariant: "recovery_equals_replay", message });
    this.#head = c.head;
    const h = c.host;
    for (const { stream, status, live } of c.instances) {
      const parsed = parseStream(stream)!;
      const def = this.#kinds.get(parsed.kind)!;
      // An input that failed the instance while recovery folded it puts the instance in backoff,
      // as it would live: supervision rebuilds it after the delay, and the next check of the host
      // (the final ones at the latest) compares it then. It has no state to compare now.
      if (status === "backoff") continue;
      if (!live || status !== "running") {
        violate(`${h} ${stream} is ${status} after ${c.when}`);
        continue;
      }
      const shadowKey = `${h} ${stream}`;
      const journal = c.journals?.get(stream);
      const view = this.#views.get(shadowKey) ?? [];
      let kept = this.#shadows.get(shadowKey);
      if (kept && journal && !replayHolds(journal, kept.consumed, this.#lookup)) kept = undefined;
      let shadow: Shadow | undefined;
      try {
        if (kept) {
          const from = kept.consumed.length;
          const records = (journal ?? view).slice(from);
          if (replayRecords(def, parsed.key, records, kept.inst, this.#lookup, kept.consumed)) {
            shadow = kept;
          }
        }
        if (!shadow) {
          const consumed: Consumed = [];
          const records = journal ?? view.slice();
          shadow = {
            inst: replayRecords(def, parsed.key, records, undefined, this.#lookup, consumed)!,
            consumed,
          };
        }
      } catch (err) {
        this.#drop(shadowKey);
        violate(`${h} ${stream}: its journal does not replay: ${(err as Error).message}`);
        continue;
      }
      if (shadow !== this.#shadows.get(shadowKey)) {
        this.#drop(shadowKey);
        this.#shadows.set(shadowKey, shadow);
      }
      const diff = diffSnapshots(live, shadow.inst.snapshot());
      if (diff) violate(`${h} ${stream} after ${c.when}: ${diff}`);
    }
    return found;
  }

  /** Stops every kept replay. */
  stop(): void {
    for (const key of [...this.#shadows.keys()]) this.#drop(key);
  }

  #drop(key: string): void {
    this.#shadows.get(key)?.inst.stop();
    this.#shadows.delete(key);
  }

  /** The decoded frame for a journaled payload holding exactly the logged bytes. */
  readonly #lookup: DecodedLookup = (srcPos, payload, subject) => {
    // Only frames the log holds (and so the index has routed) are known.
    if (!(srcPos >= 1 && srcPos <= this.#head)) return undefined;
    const entry = this.#frames.entry(srcPos);
    if (
      (subject !== undefined && subject !== entry.subject) || !bytesEqual(entry.data, payload)
    ) return undefined;
    return this.#frames.decoded(srcPos);
  };
}

/** The first difference between two instance snapshots, or undefined when they are equal. */
export function diffSnapshots(
  actual: InstanceSnapshot,
  expected: InstanceSnapshot,
  options: { positions?: boolean } = {},
): string | undefined {
  if (options.positions !== false && actual.pos !== expected.pos) {
    return `journal position ${actual.pos}, expected ${expected.pos}`;
  }
  if (actual.srcPos !== expected.srcPos) {
    return `source position ${actual.srcPos}, expected ${expected.srcPos}`;
  }
  const k = firstDifference(actual.kernel, expected.kernel);
  if (k !== undefined) {
    return `kernel state differs at byte ${k} of ${actual.kernel.byteLength} (expected ` +
      `${expected.kernel.byteLength} bytes)`;
  }
  // Equal as they are (same keys in the same order) is equal canonically: the sort only runs
  // when they differ.
  if (JSON.stringify(actual.machine) !== JSON.stringify(expected.machine)) {
    const a = canonicalJson(actual.machine), e = canonicalJson(expected.machine);
    if (a !== e) return `machine snapshot ${clip(a)}, expected ${clip(e)}`;
  }
  if (
    actual.config !== expected.config &&
    JSON.stringify(actual.config) !== JSON.stringify(expected.config)
  ) {
    const ac = canonicalJson(actual.config), ec = canonicalJson(expected.config);
    if (ac !== ec) return `configuration ${clip(ac)}, expected ${clip(ec)}`;
  }
  return undefined;
}
