/**
 * Where a simulation's feed and its fault-free reference come from. The feed is the seeded market
 * feed cut to the run's sample budget; the reference folds it through fresh actor instances (see
 * invariants.ts). Both are independent of the simulated cluster until the checks compare outputs
 * and final states, so a run can have them computed on a second thread: a worker
 * (_sim_feed_worker.ts) generates the feed, hands it over frame chunk by frame chunk, then folds
 * the reference and hands over what the checks need (every output by id, every final state, the
 * conflicting ids). The run pulls frames synchronously (it blocks only if the worker is behind)
 * and polls for the reference; until it has it, the checks that need it wait (see simulator.ts).
 * Without a worker (`threads: false`, actor kinds or a configuration a worker cannot rebuild, no
 * worker support, or a worker that failed) the same generator and the same reference run in
 * process, lazily: frames as they are pulled, the reference when the run first waits for it. Both
 * ways give the same frames, the same reference and so the same trace. This file holds the shapes
 * they share; _sim_feed_open.ts picks one.
 */
import type { AnyActorDefinition, InstanceSnapshot } from "../actors/runtime/mod.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import type { InvariantName } from "./invariants.ts";
import type { RecoveryCheck } from "./recovery_checker.ts";

/**
 * The feed of a run: the seeded market feed of `channels` price channels, cut at `budget` samples.
 */
export interface FeedSpec {
  seed: number;
  channels: number;
  batch: number;
  budget: number;
  /** Log copies of earlier frames too (the `duplicate` fault; see _sim_feed_generator.ts). */
  duplicates?: boolean;
}

/** What the checks need of the fault-free reference. */
export interface ReferenceOutcome {
  /** Every output, by id, in the order the reference produced them. */
  outputs: Map<string, Uint8Array>;
  /** Per instance stream, its final state. */
  finals: Map<string, InstanceSnapshot>;
  /** Output ids produced twice with different bytes. */
  conflicts: string[];
  /**
   * Inputs applied again: ids an instance had applied before, past its window (copies far back).
   */
  reapplied: number;
}

/** The feed and reference of one run, pulled by the simulator. */
export interface FeedSource {
  /** Frames the feed holds (its plan). */
  readonly count: number;
  /** Whether a worker computes them. */
  readonly threaded: boolean;
  /** Real milliseconds the run spent getting frames (generating them, or waiting). */
  feedMs: number;
  /** Real milliseconds the run spent getting the reference (folding it, or waiting). */
  referenceMs: number;
  /**
   * Real milliseconds the run spent waiting for the recovery checks' verdicts (or running them).
   */
  checksMs: number;
  /** The frame at `seq` (1-based, at most `count`). */
  entry(seq: number): FeedEntry;
  /** The reference if it is ready; with `wait`, once it is (it never returns undefined then). */
  reference(wait: boolean): ReferenceOutcome | undefined;
  /**
   * Hands recovery-check work over, in the order it happened (see RecoveryChecker): done here, or
   * on the worker while the run goes on. Records' bytes are read where they are (the worker
   * reads the shared ones in place): a record that changes is given new bytes (a `patch`), its
   * old ones are never written to.
   */
  check(ops: readonly CheckOp[]): void;
  /** The violations of every check handed over, by id, once all of them are known. */
  checked(): Map<number, CheckViolation[]>;
  /** Releases what the source holds (a worker's port, the checks' replays). */
  close(): void;
}

/** A violation found by a recovery check. */
export interface CheckViolation {
  invariant: InvariantName;
  message: string;
}

/**
 * Recovery-check work (see RecoveryChecker): the disk's view of a journal now holds its first
 * `base` records and then `data`; a crash cut a host's journals back to `lengths`; a record's bytes
 * change to `data` (a sabotage); a check, answered by its `id`. Byte arrays are the journal's own,
 * which never change (a record that changes gets new ones): they are read where they are.
 */
export type CheckOp =
  | { op: "records"; host: string; stream: string; base: number; data: Uint8Array[] }
  | { op: "cut"; host: string; lengths: Map<string, number> }
  | { op: "patch"; host: string; stream: string; pos: number; data: Uint8Array }
  | { op: "check"; id: number; check: RecoveryCheck };

/** How a source folds its reference: the actor kinds and their parsed configurations. */
export interface ReferenceSetup {
  actors: readonly AnyActorDefinition[];
  configs: ReadonlyMap<string, unknown>;
  /** The raw per-kind configuration the configs were parsed from (what a worker gets). */
  config: Record<string, unknown>;
}
