/** The options of an indicator over a trailing window of a column (sma, zscore, highest, ...). */

/** A window's length, where to write, and where to start. */
export interface WindowOptions {
  period: number;
  /** Where to write (as long as the input); a new array when absent. */
  out?: Float64Array;
  /** Compute only from this index on (out is NaN before it): a scan needs the last values only. */
  from?: number;
}
