/**
 * Source comments speak about the code, not its history: no comment line in the source (tests
 * aside) names an issue by number, a working session, or a tuning form ("form C"). What was tried
 * and measured lives in the history and in docs/, beside the command that makes each figure.
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, sources, TOP } from "./_sources.ts";

const test = suite("history comments");

/** What a comment may not name: an issue, a session, a tuning form. */
const HISTORY = [
  /\bissues? #?\d+/i,
  /\bsessions? \d+/i,
  // A form is a capital letter alone ("form C", "forms R and C"); not "a form I can read".
  /\b[Ff]orms? [B-HJ-Z](?:,? (?:and|or) [A-Z])?\b(?![\w'.(])/,
];

/** The comment text of each line of `text` that holds one: a comment line, or a trailing `//`. */
export function commentLines(text: string): { line: number; comment: string }[] {
  const found: { line: number; comment: string }[] = [];
  text.split("\n").forEach((line, i) => {
    const start = line.trimStart();
    if (/^(\*|\/\/|\/\*)/.test(start)) found.push({ line: i + 1, comment: start });
    else {
      const trailing = /\s\/\/\s(.*)$/.exec(line);
      if (trailing) found.push({ line: i + 1, comment: trailing[1]! });
    }
  });
  return found;
}

/** The comment lines of `text` that name history, as `line: comment`. */
export function historyComments(text: string): string[] {
  return commentLines(text)
    .filter(({ comment }) => HISTORY.some((re) => re.test(comment)))
    .map(({ line, comment }) => `${line}: ${comment}`);
}

test("historyComments() finds issues, sessions and forms in comments, not in code", () => {
  const text = [
    "/**",
    " * A fix for issue 30's worst seeds.", // 2
    " * Chosen in session 38.", // 3
    " * Forms R and C judged a count.", // 4
    " * Form C, a lower rate.", // 5
    " */",
    'const issue = "issue 12"; // as in issue #12', // 7
    "// A form of the frame; a form I can read; the Form C's field.",
    "// The issue of how a frame is framed.",
    'throw new Error("form C");',
  ].join("\n");
  assert.equal(historyComments(text).map((s) => s.split(":")[0]), ["2", "3", "4", "5", "7"]);
});

test("no source comment names an issue, a session or a tuning form", () => {
  const found: string[] = [];
  for (const path of TOP.flatMap((top) => sources(join(ROOT, top)))) {
    const file = relative(ROOT, path).split(sep).join("/");
    for (const hit of historyComments(readFileSync(path, "utf8"))) found.push(`${file}:${hit}`);
  }
  assert.equal(found, [], `${found.length} comment line(s) name history:\n${found.join("\n")}`);
});

test.run();
