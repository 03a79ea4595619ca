/**
 * What troupe's own kinds hold in a host for their life (each kind's `heldBytes`): an instance's
 * machinery (its machine, its window of input ids, its slot) and its kernel's state as large as
 * it grows. Measured by `troupe bench channel-bytes` and `troupe bench kernel-bytes`, 1,000
 * channels fed 260 samples each (the input-id windows full): an instance's machinery is a
 * channel's heap in a host of its kind alone, less what a channel costs a host whatever its kinds
 * (the four one-kind hosts' sum against the host of all four, over three), less its kernel
 * state's arrays. The runs, their machine and date, are on docs/channel_cost_by_kind.md; measure
 * again when a kind's state or the host's per-instance machinery changes.
 */
import type { HeldBytes } from "../../protocol/mod.ts";

/** An instance's machinery by kind, bytes (above; rounded up to a hundred). */
export const MACHINERY_BYTES = {
  stats: 6_200,
  anomaly: 8_000,
  collapse: 8_400,
  bars: 8_400,
} as const;

/** The kernels' arrays at 260 samples in that measurement (`bench kernel-bytes`), bytes. */
export const KERNEL_BYTES_MEASURED = {
  stats: 96,
  anomaly: 12_272,
  collapse: 12_584,
  bars: 13_857,
} as const;

/**
 * The anomaly kernel's state as large as it grew on the corpus it is chosen on: NAB's series
 * (`../shared/datasets/nab/`, 4,032 to 22,695 samples each) fed whole, its arrays' bytes: the
 * largest state 40,592, a key set of 4,096 slots and 886 times of birth (87 to 2,700 keys; the
 * median series', 21,728 bytes). Its key set grows with the distinct (context, bin) keys a channel
 * meets and stops at `KEYS_MAX`; a channel that meets more keys than NAB's series did holds more.
 */
export const ANOMALY_KERNEL_BYTES_GROWN = 40_592;

/**
 * What those four kinds' instances held at that age, by these figures (an instance's machinery
 * and its kernel's arrays at 260 samples).
 */
export const FOUR_KINDS_BYTES_MEASURED = (["stats", "anomaly", "collapse", "bars"] as const)
  .reduce((sum, k) => sum + MACHINERY_BYTES[k] + KERNEL_BYTES_MEASURED[k], 0);

/** What a stats instance holds: its kernel's state does not grow. */
export function statsHeldBytes(): HeldBytes {
  return { perChannel: MACHINERY_BYTES.stats + KERNEL_BYTES_MEASURED.stats, fixed: 0 };
}

/** What an anomaly instance holds once its key set has grown as on NAB's series. */
export function anomalyHeldBytes(): HeldBytes {
  return { perChannel: MACHINERY_BYTES.anomaly + ANOMALY_KERNEL_BYTES_GROWN, fixed: 0 };
}

/**
 * What a collapse instance holds: its ring of recent samples is full after 257 of them. The
 * measurement's states held their season blocks whole; `seasonless` is what a state without a
 * season holds less (its blocks keep the level's room alone: collapse's `_state.ts`).
 */
export function collapseHeldBytes(seasonless = 0): HeldBytes {
  const kernel = KERNEL_BYTES_MEASURED.collapse - seasonless;
  return { perChannel: MACHINERY_BYTES.collapse + kernel, fixed: 0 };
}

/**
 * A coherence group's bytes per member and per pair of members: hosts of the coherence kind alone,
 * fed 512 and 1,024 channels (one group, all of them members) 260 samples each, held 13.9 and 41.3
 * MB; a group's covariance is a member-by-member matrix.
 */
export const COHERENCE_MEMBER_BYTES = 14_000;
export const COHERENCE_PAIR_BYTES = 26;

/** What a coherence group of at most `members` channels holds. */
export function coherenceGroupBytes(members: number): number {
  return COHERENCE_MEMBER_BYTES * members + COHERENCE_PAIR_BYTES * members * members;
}
