/**
 * A recursive-descent parser for the criteria language:
 *
 *   expr    := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | compare
 *   compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=" | "crosses_above" | "crosses_below")
 * sum)?
 *   sum     := product (("+" | "-") product)*
 *   product := unary (("*" | "/") unary)*
 *   unary   := "-" unary | primary
 *   primary := number | field | call ("." name)? | crosses "(" expr "," expr ")" | "(" expr ")"
 *   call    := name "(" (arg ("," arg)*)? ")"     arg := number | "-" number | field
 *
 * Indicator arguments are constants or a bar field (the column the indicator reads), so that each
 * distinct call is computed once per symbol. What a name means is the checker's business.
 */
import type { BinaryOp, CallArg, Node } from "./ast.ts";
import { CriteriaError } from "./criteria_error.ts";
import { type Token, tokenize } from "./_lexer.ts";

const COMPARE = new Set(["<", "<=", ">", ">=", "==", "!="]);
const CROSSES = new Set(["crosses_above", "crosses_below"]);
const KEYWORDS = new Set(["and", "or", "not"]);

/** The longest expression accepted, in characters. */
export const CRITERIA_CHARS_MAX = 4096;
/** The most nodes an expression's tree may have (terms, operators, calls). */
export const CRITERIA_NODES_MAX = 1024;
/** The deepest an expression may nest: parentheses, not, unary minus, crosses(...). */
export const CRITERIA_DEPTH_MAX = 64;

/**
 * Parses `source` into a syntax tree; throws CriteriaError naming the column and what was expected,
 * or the limit (characters, nodes, nesting) it goes past: a tree is walked recursively later, so
 * its size and depth are bounded here, before anything recurses over it.
 */
export function parse(source: string, expression: string): Node {
  if (source.length > CRITERIA_CHARS_MAX) {
    throw new CriteriaError(
      expression,
      CRITERIA_CHARS_MAX + 1,
      `the expression is ${source.length} characters long; the limit is ${CRITERIA_CHARS_MAX}`,
    );
  }
  return new Parser(tokenize(source, expression), expression).parseAll();
}

class Parser {
  #tokens: Token[];
  #at = 0;
  #expression: string;
  #depth = 0;

  constructor(tokens: Token[], expression: string) {
    this.#tokens = tokens;
    this.#expression = expression;
  }

  parseAll(): Node {
    if (this.#peek().kind === "end") throw this.#error(1, "expected an expression, got nothing");
    // A tree has at most a node per token: bounding the tokens bounds the tree, and the depth of
    // a chain (a and b and c ... is as deep as it is long).
    if (this.#tokens.length - 1 > CRITERIA_NODES_MAX) {
      const t = this.#tokens[CRITERIA_NODES_MAX]!;
      throw this.#error(
        t.col,
        `the expression has ${
          this.#tokens.length - 1
        } terms and operators; the limit is ${CRITERIA_NODES_MAX}`,
      );
    }
    const node = this.#or();
    const t = this.#peek();
    if (t.kind !== "end") {
      throw this.#expected(
        t.text === ")" ? "the end (this ')' closes nothing)" : "and, or or the end",
      );
    }
    return node;
  }

  #or(): Node {
    let node = this.#and();
    while (this.#isName("or")) {
      const col = this.#next().col;
      node = { kind: "binary", op: "or", a: node, b: this.#and(), col };
    }
    return node;
  }

  #and(): Node {
    let node = this.#not();
    while (this.#isName("and")) {
      const col = this.#next().col;
      node = { kind: "binary", op: "and", a: node, b: this.#not(), col };
    }
    return node;
  }

  #not(): Node {
    if (this.#isName("not")) {
      const col = this.#next().col;
      return { kind: "not", a: this.#nested(col, () => this.#not()), col };
    }
    return this.#compare();
  }

  /** `parse()` one level deeper, refusing past CRITERIA_DEPTH_MAX at `col`. */
  #nested(col: number, parse: () => Node): Node {
    if (++this.#depth > CRITERIA_DEPTH_MAX) {
      throw this.#error(
        col,
        `the expression nests deeper than ${CRITERIA_DEPTH_MAX} levels (parentheses, not, -, ` +
          `crosses)`,
      );
    }
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  #compare(): Node {
    const a = this.#sum();
    const t = this.#peek();
    if (t.kind === "op" && COMPARE.has(t.text)) {
      this.#next();
      return { kind: "binary", op: t.text as BinaryOp, a, b: this.#sum(), col: t.col };
    }
    if (t.kind === "name" && CROSSES.has(t.text)) {
      this.#next();
      const direction = t.text === "crosses_above" ? "above" : "below";
      return { kind: "cross", direction, a, b: this.#sum(), col: t.col };
    }
    return a;
  }

  #sum(): Node {
    let node = this.#product();
    for (
      let t = this.#peek();
      t.kind === "op" && (t.text === "+" || t.text === "-");
      t = this.#peek()
    ) {
      this.#next();
      node = { kind: "binary", op: t.text as BinaryOp, a: node, b: this.#product(), col: t.col };
    }
    return node;
  }

  #product(): Node {
    let node = this.#unary();
    for (
      let t = this.#peek();
      t.kind === "op" && (t.text === "*" || t.text === "/");
      t = this.#peek()
    ) {
      this.#next();
      node = { kind: "binary", op: t.text as BinaryOp, a: node, b: this.#unary(), col: t.col };
    }
    return node;
  }

  #unary(): Node {
    const t = this.#peek();
    if (t.kind === "op" && t.text === "-") {
      this.#next();
      return { kind: "neg", a: this.#nested(t.col, () => this.#unary()), col: t.col };
    }
    return this.#primary();
  }

  #primary(): Node {
    const t = this.#peek();
    if (t.kind === "num") {
      this.#next();
      return { kind: "num", value: t.value, col: t.col };
    }
    if (t.kind === "op" && t.text === "(") {
      this.#next();
      const node = this.#nested(t.col, () => this.#or());
      this.#expect(")");
      return node;
    }
    if (t.kind === "name" && !KEYWORDS.has(t.text)) {
      this.#next();
      if (CROSSES.has(t.text)) return this.#crossCall(t);
      if (!this.#isOp("(")) return { kind: "field", name: t.text, col: t.col };
      return this.#call(t);
    }
    throw this.#expected("a number, a bar field, an indicator or '('");
  }

  #crossCall(name: Token): Node {
    this.#expect("(");
    const a = this.#nested(name.col, () => this.#or());
    this.#expect(",");
    const b = this.#nested(name.col, () => this.#or());
    this.#expect(")");
    const direction = name.text === "crosses_above" ? "above" : "below";
    return { kind: "cross", direction, a, b, col: name.col };
  }

  #call(name: Token): Node {
    this.#next(); // (
    const args: CallArg[] = [];
    if (!this.#isOp(")")) {
      for (;;) {
        args.push(this.#arg());
        if (!this.#isOp(",")) break;
        this.#next();
      }
    }
    let end = this.#expect(")").end;
    const node: Node = { kind: "call", name: name.text, args, col: name.col, end };
    if (this.#isOp(".")) {
      this.#next();
      const out = this.#peek();
      if (out.kind !== "name") throw this.#expected(`the name of one of ${name.text}'s values`);
      this.#next();
      end = out.end;
      return { ...node, output: { name: out.text, col: out.col }, end };
    }
    return node;
  }

  #arg(): CallArg {
    const t = this.#peek();
    const negative = t.kind === "op" && t.text === "-";
    const u = negative ? this.#tokens[this.#at + 1]! : t;
    if (u.kind === "num") {
      if (negative) this.#next();
      this.#next();
      return { kind: "num", value: negative ? -u.value : u.value, col: t.col };
    }
    if (!negative && t.kind === "name" && !KEYWORDS.has(t.text)) {
      this.#next();
      return { kind: "field", name: t.text, col: t.col };
    }
    throw this.#expected("a number or a bar field (indicator arguments are constants)");
  }

  #expect(text: string): Token {
    if (!this.#isOp(text)) throw this.#expected(`'${text}'`);
    return this.#next();
  }

  /** The error for a missing token: at the column just after the last token read. */
  #expected(what: string): CriteriaError {
    const t = this.#peek();
    const col = this.#at > 0 ? this.#tokens[this.#at - 1]!.end : t.col;
    const got = t.kind === "end" ? "the end" : `'${t.text}'`;
    return this.#error(col, `expected ${what}, got ${got}`);
  }

  #error(col: number, message: string): CriteriaError {
    return new CriteriaError(this.#expression, col, message);
  }

  #peek(): Token {
    return this.#tokens[this.#at]!;
  }

  #next(): Token {
    return this.#tokens[this.#at++]!;
  }

  #isOp(text: string): boolean {
    const t = this.#peek();
    return t.kind === "op" && t.text === text;
  }

  #isName(text: string): boolean {
    const t = this.#peek();
    return t.kind === "name" && t.text === text;
  }
}
