/**
 * The contract of an actor kernel: a pure streaming algorithm over sample frames. All numeric work
 * happens in a kernel; it has no clock, no I/O and no `Math.random` (a seeded PRNG lives in its
 * state when it needs one), so folding the same frames through it always gives the same state.
 *
 * For speed, `step` mutates the state it is given: a state belongs to one actor instance and is
 * never shared. `save`/`load` turn a state into bytes and back, exactly: a loaded state steps to
 * the same results, bit for bit, as the one saved.
 */
import type { SampleFrame } from "./sample_frame.ts";

/** A pure streaming kernel. `Result` is what one frame produces (a summary, output columns). */
export interface Kernel<State, Config, Result> {
  /** Creates the state of a new instance. */
  init(config: Config, key: string): State;
  /**
   * Folds one frame into the state and returns what it produced. `reuse`, when given, is a result
   * of an earlier step (of any state of this kernel) that the caller is done with: the kernel may
   * write this frame's result into its buffers instead of allocating, so the result returned may
   * share them. The values are the same either way.
   */
  step(state: State, frame: SampleFrame, reuse?: Result): Result;
  /** Applies a configuration change (thresholds, half-lives) to a live state. */
  configure?(state: State, config: Config): void;
  /** Serialises the state exactly. */
  save(state: State): Uint8Array;
  /**
   * Whether `save` returns bytes made afresh, sharing nothing with the state or with an earlier
   * call's, and kept by nothing of the kernel's: a snapshot then keeps them as they are, and a
   * stopping host's snapshot, copied into its batch at once, has them made in memory it reuses
   * (protocol's `reusingBytes`). Otherwise the runtime copies them, since the state moves on
   * before a snapshot is written.
   */
  readonly savesFresh?: boolean;
  /**
   * Restores a state saved by `save`. The bytes are the kernel's to keep (a fresh array at offset
   * 0, over which it may put a Float64Array) unless it says `loadsCopy`.
   */
  load(bytes: Uint8Array): State;
  /**
   * Whether `load` copies what it keeps of its bytes, holding no view of them: the runtime then
   * hands it the bytes as it has them (a view of a snapshot file's bytes, at any offset), not a
   * copy made for it.
   */
  readonly loadsCopy?: boolean;
}
