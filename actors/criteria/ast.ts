/**
 * The criteria language's syntax tree, as the parser builds it and the checker and compiler read
 * it. Every node carries the 1-based column it starts at, for errors.
 */

/** An indicator call's argument: a number or a bar field (its source column). */
export type CallArg =
  | { kind: "num"; value: number; col: number }
  | { kind: "field"; name: string; col: number };

/** A node of the syntax tree. */
export type Node =
  | { kind: "num"; value: number; col: number }
  | { kind: "field"; name: string; col: number }
  | {
    kind: "call";
    name: string;
    args: CallArg[];
    /** `.hist` in `macd(12,26,9).hist`, with its column. */
    output?: { name: string; col: number };
    col: number;
    /** Column just after the closing parenthesis (or the output's name). */
    end: number;
  }
  | { kind: "cross"; direction: "above" | "below"; a: Node; b: Node; col: number }
  | { kind: "binary"; op: BinaryOp; a: Node; b: Node; col: number }
  | { kind: "not"; a: Node; col: number }
  | { kind: "neg"; a: Node; col: number };

/** Binary operators, by precedence group. */
export type BinaryOp =
  | "or"
  | "and"
  | "<"
  | "<="
  | ">"
  | ">="
  | "=="
  | "!="
  | "+"
  | "-"
  | "*"
  | "/";
