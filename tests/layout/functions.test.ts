/**
 * No source function runs past 80 lines, but the hot loops docs/performance.md names, each with why it stays
 * whole. Lengths come from a brace scan (`_function_lengths.ts`), from a function's head to its
 * closing brace.
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { blankLiterals, functionLengths } from "./_function_lengths.ts";
import { ROOT, sources, TOP } from "./_sources.ts";

const LINES_MAX = 80;

/** The hot loops: `path name` of each item of the "Hot loops kept whole" list of `page`. */
export function hotLoops(page: string): Map<string, string> {
  const section = /^#{2,3} Hot loops kept whole\n([\s\S]*?)(?=^#|(?![\s\S]))/m.exec(page)?.[1] ??
    "";
  const loops = new Map<string, string>();
  for (const m of section.matchAll(/^- `([^`]+)` `([^`]+)`: ([\s\S]*?)(?=^- |^\s*$)/gm)) {
    loops.set(`${m[1]} ${m[2]}`, m[3]!.replace(/\s+/g, " ").trim());
  }
  return loops;
}

const test = suite("function length");

test("functionLengths() measures declarations, methods, constructors and arrows, head to brace", () => {
  const text = [
    "export async function first(", // 1
    "  a: number,",
    "): Promise<{ a: number }> {",
    "  if (a) {",
    "    return { a };",
    "  }",
    "  return { a: 0 };",
    "}", // 8
    "class Box {",
    "  constructor(x: number) {", // 10
    "    this.x = x;",
    "  }",
    "  get size(): number {", // 13
    "    return 1;",
    "  }",
    "}",
    "const arrow = async (b: string) => {", // 17
    "  return [1].map((y) => {", // 18
    "    return y;",
    "  });",
    "};", // 21
  ].join("\n");
  assert.equal(
    functionLengths(text).map((f) => [f.name, f.line, f.lines]),
    [
      ["first", 1, 8],
      ["constructor", 10, 3],
      ["size", 13, 3],
      ["arrow", 17, 5],
      ["arrow in arrow", 18, 3],
    ],
  );
});

test("functionLengths() is not fooled by braces in strings, templates, comments or regexps", () => {
  const text = [
    "function f() {",
    '  const s = "}}" + \'{\' + `${"}"} ${`{`} }`;',
    "  // }",
    "  /* { */",
    "  const r = /[}]\\}/g, q = 4 / 2 / 1;",
    "  return s;",
    "}",
    "function g() {",
    "}",
  ].join("\n");
  assert.equal(functionLengths(text).map((f) => [f.name, f.lines]), [["f", 7], ["g", 2]]);
  assert.not.match(blankLiterals('x = "{" + `a${b}c`;'), /[{}]/);
});

test("hotLoops() reads each item of the page's list with its reason", () => {
  const readme = "### Hot loops kept whole\n\nIntro.\n\n" +
    "- `a/b.ts` `step`: one loop over the samples,\n  its state in locals.\n" +
    "- `c.ts` `run`: why.\n\n## Next\n";
  assert.equal([...hotLoops(readme)], [
    ["a/b.ts step", "one loop over the samples, its state in locals."],
    ["c.ts run", "why."],
  ]);
  assert.equal([...hotLoops("## Hot loops kept whole\n\n- `d.ts` `go`: last on the page.\n")], [
    ["d.ts go", "last on the page."],
  ]);
});

test("no source function runs past 80 lines but the hot loops of docs/performance.md and the pending few", () => {
  const loops = hotLoops(readFileSync(join(ROOT, "docs", "performance.md"), "utf8"));
  assert.ok(loops.size > 0, "docs/performance.md's list of hot loops kept whole was not found");
  const long = new Map<string, number>();
  let counted = 0;
  for (const top of TOP) {
    for (const file of sources(join(ROOT, top))) {
      const path = relative(ROOT, file).split(sep).join("/");
      for (const f of functionLengths(readFileSync(file, "utf8"))) {
        counted++;
        if (f.lines > LINES_MAX) long.set(`${path} ${f.name}`, f.lines);
      }
    }
  }
  assert.ok(counted > 1000, `only ${counted} functions found: is the scan broken?`);
  const over = [...long].filter(([key]) => !loops.has(key))
    .map(([key, lines]) => `${key}: ${lines} lines`);
  assert.equal(
    over,
    [],
    `functions over ${LINES_MAX} lines (cut them at their seams):\n` +
      over.join("\n"),
  );
  const stale = [...loops.keys()].filter((key) => !long.has(key));
  assert.equal(
    stale,
    [],
    `listed but not over ${LINES_MAX} lines (take them off the list):\n` +
      stale.join("\n"),
  );
});

test.run();
