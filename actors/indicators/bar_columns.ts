/**
 * Bars as columns: one Float64Array per field, oldest first, all of one length. What the bars actor
 * hands a scan and what the indicators read.
 */

/** OHLCV bars of one symbol and bar size, oldest first. */
export interface BarColumns {
  /** Bar open times, microseconds since the epoch. */
  t: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/** The names of the bar fields the criteria language reads. */
export const BAR_FIELDS = ["open", "high", "low", "close", "volume"] as const;

/** A bar field's name. */
export type BarField = typeof BAR_FIELDS[number];
