/**
 * The error a criteria or rank expression that does not parse or check raises: it names the column
 * (1-based) and what was expected, before any symbol is scanned.
 */

/** A criteria or rank expression is malformed; `col` is 1-based. */
export class CriteriaError extends Error {
  override name = "CriteriaError";
  /** The 1-based column the message is about. */
  readonly col: number;
  /** Which expression: "criteria", "rank" or "priority". */
  readonly expression: string;

  constructor(expression: string, col: number, message: string, options?: ErrorOptions) {
    super(`col ${col}: ${message}`, options);
    this.col = col;
    this.expression = expression;
  }
}
