/**
 * Source comments speak about the code, not its history: no comment line in the source (tests
 * aside) names an issue by number, a working session, or a tuning form ("form C"), nor cites a
 * measured time or a bench result (a figure with its unit beside "measured", "bench", "took", a
 * percentile, or a before -> after of figures). What was tried and measured lives in the history
 * and in docs/ (docs/performance.md, the method pages), with its date and the command that makes
 * each figure: a comment says in words why the code is as it is. bench/ is left out of the
 * figures' rule: its comments describe the benchmarks' own runs (rates, durations, rounds).
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

const NUMBER = String.raw`\d[\d,]*(?:\.\d+)?`;
const RANGE = String.raw`${NUMBER}(?:\s?[–-]\s?${NUMBER})?`;
const TIME = String.raw`(?:ns|µs|us|ms|s|sec|secs|seconds?|minutes?|min|%)`;
/** A time (or a share of one) with its unit: `0.62-0.70 ms`, `16 s`, `37%`. */
const TIMED = new RegExp(String.raw`(?<![\w.])${RANGE}\s?${TIME}(?!\w)`);
/** A memory figure that was read off a run: `82-84 MB resident`, `peaked at 90 MB`. */
const MEMORY = new RegExp(
  String.raw`${RANGE}\s?(?:KB|KiB|MB|MiB|GB|GiB)\s(?:resident|peak)|\bpeak(?:ed)? at ${RANGE}`,
);
/** A percentile with its figure: `p50 4.7`, `p99 median 84`. */
const PERCENTILE = new RegExp(String.raw`\bp\d{2,3}\b\s(?:\w+\s)?${NUMBER}`);
/** A figure before and after: `84 -> 34 ms`, `0.775 -> 0.821`, `from 361 to 346`, `F1 0.910`. */
const BEFORE_AFTER = new RegExp(
  String.raw`${NUMBER}\s?(?:${TIME}\s?)?(?:->|→)\s?${NUMBER}|\bF1\s(?:of\s)?${NUMBER}` +
    String.raw`|\b(?:went|fell|rose|grew|took)\b[^.;]*?\bfrom ${NUMBER}\b[^.;]*?\bto ${NUMBER}` +
    String.raw`|\btook ${NUMBER} to ${NUMBER}`,
);
/** Words that say a figure was read off a run ("measured on" says what a value is taken on). */
const MEASURED = new RegExp(
  String.raw`(?<!not )\bmeasur(?:ed|ing)\b(?! (?:on|against|over|from|as|once|by)\b)` +
    String.raw`|\b(?:bench(?:mark)?(?:ed|es|s)?|median|timed|profiled?|took|seeds?)\b`,
  "i",
);

/**
 * The comment lines of `text` that cite a measured figure, as `line: comment`: a percentile with
 * its figure; or a time, share or memory figure, or a before -> after, within a line of words
 * that say it was measured.
 */
export function measuredComments(text: string): string[] {
  const lines = commentLines(text);
  return lines
    .filter(({ line, comment }) => {
      const near = lines.filter((c) => Math.abs(c.line - line) <= 1).map((c) => c.comment)
        .join(" ");
      if (PERCENTILE.test(comment)) return true;
      // A before -> after may run over two lines.
      const figure = TIMED.test(comment) || MEMORY.test(comment) ||
        (/\d/.test(comment) && BEFORE_AFTER.test(near));
      return figure && MEASURED.test(near);
    })
    .map(({ line, comment }) => `${line}: ${comment}`);
}

test("measuredComments() finds measured figures in comments, not constants' docs", () => {
  const text = [
    "/**",
    " * without a hop to an I/O thread (collab6: c200 p99 median 84 -> 34 ms).", // 2
    " * the first byte left 0.62-0.70 ms after the relay began (bench collab, timed inside).", // 3
    " * A page that drained 24,000 buffered messages took 16 s, showing old events.", // 4
    " * frames at p50 4.7–6.9 ms that way", // 5
    " * brent_spot 0.775 -> 0.821, on seeds 1 to 5", // 6
    " * the server peaked at 82-84 MB resident at 500 clients", // 7
    " * (a profile at 100 clients: `writev` 37%).", // 8
    " * (`troupe bench detect`, false changes on seeds 1 to 5 went from 361 to 346)", // 9
    " */",
    "/** How long a request waits, default 5000 ms (a timer, not a measurement). */",
    "",
    "/** Frames 1 ms apart, and the p50 and p99 of their latency over 10 s windows. */",
    "",
    "/** The reading is held, not measured: memory pinned at 100%. */",
    "",
    "/** The body field its strength is measured on, 0 to 100%. */",
    "",
    '// a crash once read "up: mean 146.80 → 149.87"',
    "",
    "/** Buffers of 4 MiB; Node's default is 16 MiB. */",
    "",
    "/** Seeds from 1 to 8 by default, a range of 8 to 16 bars. */",
    "",
    'const x = "took 16 s"; // default 250 ms',
  ].join("\n");
  const lines = measuredComments(text).map((s) => s.split(":")[0]);
  assert.equal(lines, ["2", "3", "4", "5", "6", "7", "8", "9"]);
});

/** The comment lines `find` finds in the source files of `tops`, as `path:line: comment`. */
function foundIn(tops: readonly string[], find: (text: string) => string[]): string[] {
  return tops.flatMap((top) => sources(join(ROOT, top))).flatMap((path) => {
    const file = relative(ROOT, path).split(sep).join("/");
    return find(readFileSync(path, "utf8")).map((hit) => `${file}:${hit}`);
  });
}

test("no source comment cites a measured time or a bench result", () => {
  const found = foundIn(TOP.filter((top) => top !== "bench"), measuredComments);
  const why =
    "move it to docs/performance.md or the method page, with its date, and say why in words";
  assert.equal(
    found,
    [],
    `${found.length} comment line(s) cite a measured figure (${why}):\n` +
      found.join("\n"),
  );
});

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
  const found = foundIn(TOP, historyComments);
  assert.equal(found, [], `${found.length} comment line(s) name history:\n${found.join("\n")}`);
});

test.run();
