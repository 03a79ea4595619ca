/**
 * The length of every function in a source text, by a brace scan: strings, template literals,
 * comments and regular expressions are blanked first, so that a brace inside them does not count,
 * then each `{` whose head reads as a function's (a `function`, a method, a constructor, an arrow)
 * is matched with its `}`. A function's length is its lines from its head's first line to its
 * closing brace, nested functions included. The layout test uses it to keep functions short.
 */

/** One function found in a text. */
export interface FunctionSpan {
  /** Its name (a method's is its own, without the class); an anonymous one's `arrow in outer`. */
  name: string;
  /** 1-based line of its head's start. */
  line: number;
  /** Lines from the head's first to the closing brace, both counted. */
  lines: number;
}

const CONTROL = new Set(["if", "for", "while", "switch", "catch", "with", "do", "else", "try"]);
/** A `/` after one of these starts a regular expression, not a division. */
const REGEX_AFTER = new Set([..."(,=:[!&|?{};+-*%<>~^", "", "return", "typeof", "case", "of"]);

/**
 * `text` with the inside of strings, templates, comments and regular expressions turned to spaces
 * (newlines kept, so that offsets and lines still match), and a template's `${` `}` too.
 */
export function blankLiterals(text: string): string {
  const out = text.split("");
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== "\n") out[i] = " ";
  };
  // Each open template expression's brace depth, innermost last.
  const templates: number[] = [];
  let depth = 0;
  let lastToken = "";
  let i = 0;
  const n = text.length;
  const readTemplate = (start: number): number => {
    // From just after a backtick or a `}` closing a template expression, to its end or `${`.
    let j = start;
    while (j < n) {
      const c = text[j]!;
      if (c === "\\") j += 2;
      else if (c === "`") {
        blank(start, j);
        return j + 1;
      } else if (c === "$" && text[j + 1] === "{") {
        blank(start, j + 2);
        templates.push(depth);
        depth++;
        return j + 2;
      } else j++;
    }
    blank(start, n);
    return n;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? n : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
      lastToken = "str";
    } else if (c === "`") {
      i = readTemplate(i + 1);
      lastToken = "str";
    } else if (c === "/" && REGEX_AFTER.has(lastToken)) {
      let j = i + 1;
      let inClass = false;
      while (j < n && text[j] !== "\n" && (inClass || text[j] !== "/")) {
        if (text[j] === "\\") j++;
        else if (text[j] === "[") inClass = true;
        else if (text[j] === "]") inClass = false;
        j++;
      }
      blank(i + 1, j);
      i = j + 1;
      lastToken = "re";
    } else if (c === "{") {
      depth++;
      lastToken = c;
      i++;
    } else if (c === "}") {
      depth--;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        out[i] = " ";
        i = readTemplate(i + 1);
        lastToken = "str";
      } else {
        lastToken = c;
        i++;
      }
    } else if (/[\w$#]/.test(c)) {
      let j = i;
      while (j < n && /[\w$#]/.test(text[j]!)) j++;
      lastToken = /^\d/.test(c) ? "num" : text.slice(i, j);
      if (!REGEX_AFTER.has(lastToken)) lastToken = "id";
      i = j;
    } else {
      if (!/\s/.test(c)) lastToken = c === ")" || c === "]" ? "id" : c;
      i++;
    }
  }
  return out.join("");
}

/** Whether the `{` at `open` starts a type or object literal: after `:`, `<`, `|`, `&` and the like. */
function opensLiteral(code: string, open: number): boolean {
  let i = open - 1;
  while (i >= 0 && /\s/.test(code[i]!)) i--;
  return i >= 0 && ":<|&,([=?".includes(code[i]!);
}

/** The `{` that the `}` at `close` closes, or -1. */
function openingOf(code: string, close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (code[i] === "}") depth++;
    else if (code[i] === "{" && --depth === 0) return i;
  }
  return -1;
}

/**
 * Where the head of the block opened at `open` starts: after `;`, `,`, an enclosing bracket or the
 * block before it, a type literal (`): { a: number } {`) being part of the head.
 */
function headStart(code: string, open: number): number {
  let depth = 0;
  for (let i = open - 1; i >= 0; i--) {
    const c = code[i]!;
    if (c === ")" || c === "]") depth++;
    else if (c === "}") {
      if (depth > 0) depth++;
      else {
        const from = openingOf(code, i);
        if (from < 0 || !opensLiteral(code, from)) return i + 1;
        i = from;
      }
    } else if (c === "(" || c === "[" || c === "{") {
      if (depth === 0) return i + 1;
      depth--;
    } else if (depth === 0 && (c === ";" || c === ",")) return i + 1;
  }
  return 0;
}

/** The name of the callee whose argument list opens just before `start`, or "". */
function calleeBefore(code: string, start: number): string {
  const m = /([\w$#.]+)\s*(?:<[^()]*>)?\s*\(\s*$/.exec(code.slice(Math.max(0, start - 200), start));
  return m ? m[1]!.slice(m[1]!.lastIndexOf(".") + 1) : "";
}

/**
 * The name of the function whose body `{` ends `head`, or undefined when it is not a function; an
 * anonymous one is named after the function it is in (`outer`), else the call it is passed to.
 */
function functionName(
  head: string,
  code: string,
  { start, outer }: { start: number; outer: string | undefined },
): string | undefined {
  const h = head.replace(/\s+/g, " ").trim();
  if (h.endsWith("=>")) {
    const named = /^(?:export )?(?:const|let|var) ([\w$]+)/.exec(h) ??
      /^(?:(?:static|private|public|readonly|override) )*(#?[\w$.]+)\s*[:=]/.exec(h);
    if (named) return named[1]!.slice(named[1]!.lastIndexOf(".") + 1);
    return `arrow in ${outer ?? (calleeBefore(code, start) || "?")}`;
  }
  const fn = /\bfunction\b\s*\*?\s*([\w$]*)/.exec(h);
  if (fn) return fn[1] || `function in ${outer ?? (calleeBefore(code, start) || "?")}`;
  const method =
    /^(?:(?:export|default|async|static|public|private|protected|override|get|set|\*) ?)*(#?[\w$]+)\s*(?:<.*>)?\s*\(.*\)\s*(?::.*)?$/
      .exec(h);
  if (method && !CONTROL.has(method[1]!) && !/^(?:new|await|return|typeof)\b/.test(h)) {
    return method[1]!;
  }
  return undefined;
}

/** Every function in `text`, in the order their bodies open. */
export function functionLengths(text: string): FunctionSpan[] {
  const code = blankLiterals(text);
  const lineAt: number[] = [];
  let line = 1;
  for (let i = 0; i < code.length; i++) {
    lineAt.push(line);
    if (code[i] === "\n") line++;
  }
  const found: FunctionSpan[] = [];
  const open: { at: number; span?: FunctionSpan }[] = [];
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === "{") {
      let start = headStart(code, i);
      while (start < i && /\s/.test(code[start]!)) start++;
      const outer = [...open].reverse().find((block) => block.span)?.span?.name;
      const name = opensLiteral(code, i)
        ? undefined
        : functionName(code.slice(start, i), code, { start, outer });
      const span = name === undefined ? undefined : { name, line: lineAt[start]!, lines: 0 };
      if (span) found.push(span);
      open.push(span ? { at: i, span } : { at: i });
    } else if (c === "}") {
      const block = open.pop();
      if (block?.span) block.span.lines = lineAt[i]! - block.span.line + 1;
    }
  }
  return found;
}
