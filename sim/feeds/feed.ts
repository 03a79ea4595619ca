/**
 * The Feed contract every generator and file reader in `sim/feeds/` implements, and the ground
 * truth they label their data with. A feed is pulled, never pushed: each `next()` returns one step,
 * one frame of `batch` samples per channel, so an injector can pull at whatever rate it is pacing
 * and a test or benchmark can pull as fast as it likes. A generated feed is a pure function of its
 * options (seed included): the same options give the same frames, bit for bit, on every runtime.
 */
import type { SampleFrame } from "../../protocol/mod.ts";

/** A stream of sample frames over a fixed set of channels, with its labels. */
export interface Feed {
  /** The feed's name, a subject token: the `<feed>` of `troupe.feed.<feed>.<channel>`. */
  readonly name: string;
  /** The channels, in the order `next()` returns their frames. Valid channel names. */
  readonly channels: readonly string[];
  /** Samples per frame. (The last frames of a finite feed may be shorter.) */
  readonly batch: number;
  /**
   * The next step: one frame per channel, in `channels` order. Within a channel, times are
   * non-decreasing and `seq0` continues where the previous frame ended. A finite feed (a file)
   * returns an empty array once exhausted; generators never end. The arrays are fresh: the caller
   * may keep them.
   */
  next(): SampleFrame[];
  /**
   * For a feed whose rows arrive over time (a pipe): the next step once rows have arrived, `[]`
   * at the end of the input. A sender uses it instead of `next()` when present; the time it waits
   * is the writer's, not the sender's falling behind.
   */
  pull?(): Promise<SampleFrame[]>;
  /**
   * The labels of everything generated so far, as plain JSON-serialisable data. An event is
   * listed once its first sample has been generated; its window may reach past the last sample.
   */
  truth(): GroundTruth;
}

/**
 * A labelled anomaly: `onset` is the first affected sample's time (`index` its per-channel sequence
 * number), and `[start, end]` the NAB-style scoring window around it, which starts before the onset
 * and ends after the anomaly has passed. Times in microseconds since the epoch.
 *
 * Kinds: `spike`, `level_shift`, `drift`, `flatline` (metrics); `jump`, `crash`, `volume_burst`
 * (market).
 */
export interface AnomalyWindow {
  channel: string;
  kind: string;
  start: number;
  end: number;
  onset: number;
  index: number;
}

/**
 * A labelled change point: the distribution of `channel` changes starting at sample `index` (its
 * per-channel sequence number) at `time`. `magnitude`, when given, is the change of level in the
 * channel's units (signed).
 *
 * Kinds: `level_shift`, `drift` (metrics: the start of a ramp to a new level); `crash` (market).
 */
export interface ChangePoint {
  channel: string;
  kind: string;
  index: number;
  time: number;
  magnitude?: number;
}

/**
 * A feed-wide regime (market: `calm` or `stressed`) from `start` until `end`, the time the next
 * regime starts (for the last one, the time of the last sample generated so far). Regimes tile the
 * generated time without gaps. Times in microseconds since the epoch.
 */
export interface Regime {
  name: string;
  start: number;
  end: number;
}

/** Everything a feed knows about its own data, for scoring detectors against. */
export interface GroundTruth {
  /** The feed's name. */
  feed: string;
  /** The options that reproduce the feed, seed included (resolved: defaults filled in). */
  options: Record<string, unknown>;
  channels: string[];
  /** Samples generated so far per channel: the labels cover this prefix. */
  samples: number;
  /** Time of the first sample, and of the last generated so far (null before any sample). */
  startUs: number | null;
  endUs: number | null;
  anomalies: AnomalyWindow[];
  changePoints: ChangePoint[];
  regimes: Regime[];
}

/** Options every generator takes. */
export interface FeedOptions {
  /** Seeds every random draw. Default 1. */
  seed?: number;
  /** Samples per frame, 1 to 65536. Default 100. */
  batch?: number;
  /**
   * Time of the first sample, microseconds since the epoch. Default 2024-01-01T00:00:00Z (a
   * Monday).
   */
  startUs?: number;
}
