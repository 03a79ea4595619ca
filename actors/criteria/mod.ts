/**
 * The scan criteria language: `rsi(14) < 30 and close > sma(200)`, a rank such as `rsi(14)` and an
 * order, parsed and checked once per scan into an evaluator over each symbol's bars.
 */
export { CriteriaError } from "./criteria_error.ts";
export { CRITERIA_CHARS_MAX, CRITERIA_DEPTH_MAX, CRITERIA_NODES_MAX } from "./_parser.ts";
export {
  compileCriteria,
  CompiledCriteria,
  type CriteriaOptions,
  type Verdict,
} from "./compile_criteria.ts";
export { INDICATORS, type IndicatorSpec, type ParamSpec } from "./indicator_catalog.ts";
export type { BinaryOp, CallArg, Node } from "./ast.ts";
