/**
 * Technical indicators over bar columns: pure functions from Float64Arrays to Float64Arrays, one
 * value per bar, NaN before each indicator's warm-up (its `*Warmup` function says how many bars).
 * Each takes an optional output array so that a scan reuses its buffers across symbols.
 */
export { BAR_FIELDS, type BarColumns, type BarField } from "./bar_columns.ts";
export { sma, type SmaOptions, smaWarmup } from "./sma.ts";
export { ema, type EmaOptions, emaWarmup } from "./ema.ts";
export { rsi, type RsiOptions, rsiWarmup } from "./rsi.ts";
export {
  macd,
  macdLineWarmup,
  type MacdOptions,
  type MacdSeries,
  macdSignalWarmup,
} from "./macd.ts";
export {
  bollinger,
  type BollingerOptions,
  type BollingerSeries,
  bollingerWarmup,
} from "./bollinger.ts";
export { atr, type AtrOptions, atrWarmup, type HighLowClose } from "./atr.ts";
export {
  stochastic,
  stochasticDWarmup,
  stochasticKWarmup,
  type StochasticOptions,
  type StochasticSeries,
} from "./stochastic.ts";
export { zscore, type ZscoreOptions, zscoreWarmup } from "./zscore.ts";
export { barReturn, type BarReturnOptions, barReturnWarmup } from "./bar_return.ts";
export { type ExtremeOptions, extremeWarmup, highest, lowest } from "./highest.ts";
export {
  crossesAbove,
  crossesAboveSeries,
  crossesBelow,
  crossesBelowSeries,
  type CrossesOptions,
} from "./crosses.ts";
