/**
 * No source line runs past 100 columns: `deno fmt` wraps code at 100, and what it
 * leaves (strings, comments, template literals) is wrapped by hand. A comment line that holds a
 * URL may run past it (a URL is not cut), and so may a file's `#!` line (one line by definition).
 * Tests are not read.
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, sources, TOP } from "./_sources.ts";

const LINE_COLUMNS_MAX = 100;
const test = suite("line width");

/**
 * The 1-based numbers of the lines of `text` over LINE_COLUMNS_MAX columns, URL comments and a
 * first line that starts `#!` aside.
 */
export function longLines(text: string): number[] {
  const long: number[] = [];
  text.split("\n").forEach((line, i) => {
    if ([...line].length <= LINE_COLUMNS_MAX) return;
    if (i === 0 && line.startsWith("#!")) return;
    const t = line.trim();
    if (/^(\/\/|\/?\*)/.test(t) && /https?:\/\//.test(t)) return;
    long.push(i + 1);
  });
  return long;
}

test("no source line runs past 100 columns", () => {
  const found: string[] = [];
  for (const path of TOP.flatMap((top) => sources(join(ROOT, top)))) {
    const file = relative(ROOT, path).split(sep).join("/");
    const long = longLines(readFileSync(path, "utf8"));
    if (long.length > 0) found.push(`${file}: lines ${long.join(", ")}`);
  }
  assert.equal(found, [], `lines over ${LINE_COLUMNS_MAX} columns:\n${found.join("\n")}`);
});

test("longLines() counts characters, not bytes, and lets a URL in a comment or a #! line run long", () => {
  const at = (n: number) => "x".repeat(n);
  assert.equal(longLines(`${at(100)}\n${at(101)}`), [2]);
  assert.equal(longLines(`const s = "${"µ".repeat(87)}";`), []);
  assert.equal(longLines(` * see https://example.com/${at(100)}`), []);
  assert.equal(longLines(`const u = "https://example.com/${at(100)}";`), [1]);
  assert.equal(longLines(`#!/usr/bin/env -S ${at(100)}\n#!${at(100)}`), [2]);
});

test.run();
