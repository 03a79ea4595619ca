/**
 * The simulator's invariants, and the fault-free reference they are checked against. The
 * reference is the same feed folded through fresh actor instances in one pass, with no host, no
 * network and no faults: the outputs a cluster must publish and the state it must end in. The
 * checks are pure functions over journals, instances and outputs, so a test can break one on
 * purpose and see it reported.
 *
 * - `no_input_lost`: every frame the feed log holds is, once the run drains, in the journal of
 *   each instance it routes to (exactly once, in log order) and applied;
 * - `no_input_applied_twice`: per instance journal, source positions strictly increase (the host
 *   journals an input before applying it, so the journal's order is the apply order);
 * - `recovery_equals_replay`: a live instance (after a recovery, and at the end) equals a fresh
 *   instance fed its whole journal: kernel bytes, machine snapshot, configuration and positions;
 * - `outputs_equal_fault_free`: every output a host publishes has an id the reference produced,
 *   with
 *   the same bytes, and every reference output is published (at least once: duplicates aside);
 * - `no_dead_letters`: nothing valid is dead-lettered and no instance is stopped;
 * - `drains`: once faults stop, the cluster catches up with the log within a bound;
 * - `no_exception`: nothing under simulation throws;
 * - `framing_independent`: a per-channel kind's outputs are the same however its samples are framed
 *   (framing_check.ts: a few streams' journals folded again in other frames at the end);
 * - `one_writer` (leased runs): at most one writer per partition at any instant, by epoch: no
 *   journal append and no output accepted from an epoch older than the newest claimed for its
 *   partition (a machine paused, cut off or on a drifting clock past its lease writes nothing).
 *
 * This file holds their names and the shapes they share, and imports none of the checks; each
 * concept is a file of its own: fault_free_reference.ts (the reference, the routing, the journal
 * replay), recovery_checker.ts and output_checker.ts.
 */
import type { InstanceSnapshot } from "../actors/runtime/mod.ts";
import type { decodeFrame } from "../protocol/mod.ts";

/** The names of the invariants. */
export type InvariantName =
  | "no_input_lost"
  | "no_input_applied_twice"
  | "recovery_equals_replay"
  | "outputs_equal_fault_free"
  | "no_dead_letters"
  | "drains"
  | "no_exception"
  | "framing_independent"
  | "one_writer";

/** A broken invariant, when (virtual µs since the start of the run) and what exactly. */
export interface Violation {
  invariant: InvariantName;
  atUs: number;
  message: string;
}

/** A frame of the feed log, as the reference and the checks see it. */
export interface LoggedFrame {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** What a fault-free run of the same inputs gives. */
export interface Reference {
  /** Every output, by id. */
  outputs: Map<string, Uint8Array>;
  /** Per instance stream, the source positions of the frames it consumes, in order. */
  inputs: Map<string, number[]>;
  /** Per instance stream, its final state. */
  finals: Map<string, InstanceSnapshot>;
  /** Output ids produced twice with different bytes (ids must be unique). */
  conflicts: string[];
  /**
   * Inputs applied again: ids an instance had applied before, past its window (copies far back).
   */
  reapplied: number;
  /** Each logged frame decoded (index seq - 1), for replays of journals that hold it. */
  decoded: DecodedFrame[];
}

/** A frame message decoded. */
export type DecodedFrame = ReturnType<typeof decodeFrame>;

/**
 * Finds the decoded form of a journaled frame's payload, if it is known (a replay then skips
 * decoding it again); it must return undefined unless `payload` holds exactly those bytes and,
 * when `subject` is given, the frame was logged on that subject.
 */
export type DecodedLookup = (
  srcPos: number,
  payload: Uint8Array,
  subject?: string,
) => DecodedFrame | undefined;

/**
 * What a replay consumed, per journal position (index pos - 1): the source position of a frame
 * record that holds exactly the logged frame (its kind, source position, subject and payload: what
 * the lookup vouched for), or a copy of the record's bytes. A later check compares a journal with
 * it (`replayHolds`) before it continues the replay instead of starting afresh.
 */
export type Consumed = (number | Uint8Array)[];
