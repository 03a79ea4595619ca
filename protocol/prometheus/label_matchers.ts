/**
 * Prometheus label matchers, the language a team already writes its selectors in:
 * `{job="api", __name__=~"http_.*"}` or `http_requests_total{code!~"2.."}`, with `=`, `!=`, `=~`
 * and `!~`. Regular expressions are anchored at both ends as Prometheus anchors them, and the
 * constructs RE2 does not have (lookaround, backreferences) are refused rather than run with a
 * meaning Prometheus would not give them. A label a series lacks matches as the empty string.
 */
import { ProtocolError } from "../protocol_error.ts";
import type { Label } from "./remote_write.ts";

/** A matcher's operator. */
export type MatchOp = "=" | "!=" | "=~" | "!~";

/** One label matcher. */
export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

/** A parsed selector: all of its matchers must hold. */
export interface LabelSelector {
  /** The text it was parsed from. */
  text: string;
  matchers: LabelMatcher[];
  /** Whether a series' labels satisfy every matcher. */
  matches(labels: readonly Label[]): boolean;
}

/** The longest selector text taken. */
export const SELECTOR_CHARS_MAX = 4096;

function bad(text: string, at: number, message: string): ProtocolError {
  return new ProtocolError(
    "value",
    `Invalid label selector ${JSON.stringify(text)} at character ${at}: ${message}`,
    { field: "match", value: text },
  );
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_:]/;
const UNSUPPORTED = /\(\?[=!<]|\\[1-9]|\(\?P?<[^>]*>/;

/** Parses a selector `name{label op "value", ...}` (either part may be left out). */
export function parseLabelSelector(text: string): LabelSelector {
  if (text.length > SELECTOR_CHARS_MAX) {
    throw bad(text, SELECTOR_CHARS_MAX, `over ${SELECTOR_CHARS_MAX} characters`);
  }
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const ident = (colons: boolean): string => {
    const start = i;
    if (i >= text.length || !NAME_START.test(text[i]!) && !(colons && text[i] === ":")) {
      throw bad(text, i, "a label name was expected");
    }
    while (i < text.length && (NAME_CHAR.test(text[i]!) && (colons || text[i] !== ":"))) i++;
    return text.slice(start, i);
  };
  const matchers: LabelMatcher[] = [];
  ws();
  if (i < text.length && text[i] !== "{") {
    matchers.push({ name: "__name__", op: "=", value: ident(true) });
    ws();
  }
  if (i < text.length) {
    if (text[i] !== "{") throw bad(text, i, `"{" was expected`);
    i++;
    ws();
    while (i < text.length && text[i] !== "}") {
      const name = ident(false);
      ws();
      const op = (["=~", "!~", "!=", "="] as const).find((o) => text.startsWith(o, i));
      if (op === undefined) throw bad(text, i, "one of = != =~ !~ was expected");
      i += op.length;
      ws();
      const q = readQuoted(text, i);
      i = q.end;
      const value = q.value;
      matchers.push({ name, op, value });
      ws();
      if (text[i] === ",") {
        i++;
        ws();
      } else if (text[i] !== "}") throw bad(text, i, `"," or "}" was expected`);
    }
    if (text[i] !== "}") throw bad(text, i, `"}" was expected`);
    i++;
    ws();
    if (i < text.length) throw bad(text, i, "nothing may follow the selector");
  }
  if (matchers.length === 0) throw bad(text, 0, "a selector needs at least one matcher");
  return selector(text, matchers);
}

/** The quoted string at `text[start]` (Go's escapes), and where it ends. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  let i = start;
  const q = text[i];
  if (q !== '"' && q !== "'" && q !== "`") throw bad(text, i, "a quoted string was expected");
  i++;
  let out = "";
  const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'" };
  while (i < text.length && text[i] !== q) {
    const c = text[i]!;
    const e = text[i + 1];
    if (c === "\\" && q !== "`" && e !== undefined && map[e] !== undefined) {
      out += map[e];
      i += 2;
      continue;
    }
    // Any other backslash is kept as written: a regular expression's escapes (\d, \.) pass on.
    out += c;
    i++;
  }
  if (i >= text.length) throw bad(text, start, "the string is not closed");
  return { value: out, end: i + 1 };
}

/** A selector from matchers already parsed (regexes checked and compiled once). */
export function selector(text: string, matchers: LabelMatcher[]): LabelSelector {
  const tests = matchers.map((m) => {
    if (m.op === "=" || m.op === "!=") {
      const eq = m.op === "=";
      return (v: string) => (v === m.value) === eq;
    }
    if (UNSUPPORTED.test(m.value)) {
      throw new ProtocolError(
        "value",
        `Invalid label selector ${JSON.stringify(text)}: the regular expression for ` +
          `"${m.name}" uses lookaround or a backreference, which Prometheus's RE2 does not have`,
        { field: "match", value: m.value },
      );
    }
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${m.value})$`, "su");
    } catch (err) {
      throw new ProtocolError(
        "value",
        `Invalid label selector ${JSON.stringify(text)}: the regular expression for ` +
          `"${m.name}" does not compile: ${(err as Error).message}`,
        { field: "match", value: m.value },
      );
    }
    const yes = m.op === "=~";
    return (v: string) => re.test(v) === yes;
  });
  const names = matchers.map((m) => m.name);
  return {
    text,
    matchers,
    matches(labels: readonly Label[]): boolean {
      for (let k = 0; k < tests.length; k++) {
        const name = names[k]!;
        let value = "";
        for (const l of labels) {
          if (l.name === name) {
            value = l.value;
            break;
          }
        }
        if (!tests[k]!(value)) return false;
      }
      return true;
    },
  };
}

/** Renders matchers back as selector text (what parseLabelSelector reads back to the same). */
export function formatLabelSelector(matchers: readonly LabelMatcher[]): string {
  const esc = (s: string) => JSON.stringify(s);
  return `{${matchers.map((m) => `${m.name}${m.op}${esc(m.value)}`).join(", ")}}`;
}
