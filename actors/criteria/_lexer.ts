/**
 * The criteria language's tokens: numbers, names, punctuation and operators, each with its
 * 1-based column and the column just after it (where a missing token is reported).
 */
import { CriteriaError } from "./criteria_error.ts";

/** A token's kind. */
export type TokenKind = "num" | "name" | "op" | "end";

/** One token. */
export interface Token {
  kind: TokenKind;
  /** The token's text (for numbers, as written). */
  text: string;
  value: number;
  /** 1-based column of its first character. */
  col: number;
  /** 1-based column just after its last character. */
  end: number;
}

/** Longest first, so that `<=` wins over `<`. */
const OPS = ["<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", ",", "."];
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * The tokens of `source`, ending with an `end` token; throws CriteriaError on a stray character.
 */
export function tokenize(source: string, expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
      continue;
    }
    const rest = source.slice(i);
    const num = NUMBER.exec(rest);
    if (num && !(ch === "." && tokens.at(-1)?.text === ")")) {
      const text = num[0];
      tokens.push({ kind: "num", text, value: Number(text), col: i + 1, end: i + 1 + text.length });
      i += text.length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      const text = name[0];
      tokens.push({ kind: "name", text, value: NaN, col: i + 1, end: i + 1 + text.length });
      i += text.length;
      continue;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (op) {
      tokens.push({ kind: "op", text: op, value: NaN, col: i + 1, end: i + 1 + op.length });
      i += op.length;
      continue;
    }
    const hint = ch === "="
      ? "; use == to compare"
      : ch === "&" || ch === "|"
      ? "; use and, or"
      : "";
    throw new CriteriaError(expression, i + 1, `unexpected character '${ch}'${hint}`);
  }
  tokens.push({
    kind: "end",
    text: "",
    value: NaN,
    col: source.length + 1,
    end: source.length + 1,
  });
  return tokens;
}
