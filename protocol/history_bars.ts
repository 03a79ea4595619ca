/**
 * The bars of a history answer: the channel's OHLC bars over the range asked, of one bar size,
 * aligned to the Unix epoch as the bars actor's are (a 1d bar is a UTC day), so that a range view
 * draws its candle strip on the line's time axis from the same samples as its line. On the wire
 * they are one msgpack map whose columns are bins of 8-byte little-endian floats, as in a sample
 * frame; this file is the map's encode/decode pair, nested in `protocol/history.ts`'s answer.
 */
import { requireBin, requireInteger, requireMap } from "./envelope.ts";
import { ProtocolError } from "./protocol_error.ts";
import { float64Bytes, float64Column } from "./float64_column.ts";

/** The columns of a HistoryBars, in wire order. */
export const HISTORY_BAR_COLUMNS = ["t", "open", "high", "low", "close", "count"] as const;

/** The bars of a history answer, in time order, one entry per bar in every column. */
export interface HistoryBars {
  /** The bar size, µs (every bar's). */
  size_us: number;
  /** Each bar's start, µs since the epoch (a multiple of `size_us`). */
  t: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  /** Samples in the bar (a tick count: the channel's own volume; a traded volume is another
   *  channel, `<SYM>_vol`). */
  count: Float64Array;
}

/** The wire value of `bars`: a map of its size and its columns as bins. */
export function historyBarsValue(bars: HistoryBars): Record<string, unknown> {
  const out: Record<string, unknown> = { size_us: bars.size_us };
  for (const c of HISTORY_BAR_COLUMNS) {
    if (bars[c].length !== bars.t.length) {
      throw new RangeError(`History bars have ${bars.t.length} times and ${bars[c].length} ${c}`);
    }
    out[c] = float64Bytes(bars[c]);
  }
  return out;
}

/** Reads the bars of an answer's `bars` field, naming the column that is wrong. */
export function historyBarsOfValue(raw: unknown): HistoryBars {
  const m = requireMap(raw, 'History response field "bars"');
  const columns = {} as Record<(typeof HISTORY_BAR_COLUMNS)[number], Float64Array>;
  for (const c of HISTORY_BAR_COLUMNS) {
    columns[c] = float64Column(requireBin(m, c, "bars"), `bars.${c}`);
    if (columns[c].length !== columns.t.length) {
      throw new ProtocolError(
        "field",
        `History response has ${columns.t.length} bar times and ${columns[c].length} ` +
          `"bars.${c}": every bar column must match`,
        { field: `bars.${c}`, value: columns[c].length },
      );
    }
  }
  const size_us = requireInteger(m, "size_us", "bars");
  if (size_us <= 0) {
    throw new ProtocolError(
      "value",
      `History response field "bars.size_us" must be positive, got ${size_us}`,
      { field: "bars.size_us", value: size_us },
    );
  }
  return { size_us, ...columns };
}
