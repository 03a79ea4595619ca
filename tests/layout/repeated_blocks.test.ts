/**
 * No block of six or more lines is repeated in three or more places in the source (issue 34): logic
 * written three times is given one home. Each file's lines are normalised (trimmed; blank lines
 * and lines without a letter or a digit, such as `});` or `*\/`, left out; import and re-export
 * statements left out too, since they list what a file uses and cannot have one home); every run
 * of BLOCK_LINES_MIN normalised lines is keyed by its text, and a run found in PLACES_MIN or more
 * places that do not overlap fails the test, merged with its neighbours into the longest block
 * they make and named by `file:line` of each copy. Tests are not read.
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, sources, TOP } from "./_sources.ts";

/** The fewest lines a repeated block has. */
const BLOCK_LINES_MIN = 6;
/** The fewest places a block is found in to count as repeated. */
const PLACES_MIN = 3;

const test = suite("repeated blocks");

/** A block found in PLACES_MIN or more places: its length, first line, and each copy's start. */
interface RepeatedBlock {
  lines: number;
  first: string;
  places: string[];
}

interface Normalised {
  file: string;
  text: string[];
  line: number[];
}

/** The lines of `source` that count, with their 1-based line numbers. */
function normalise(file: string, source: string): Normalised {
  const text: string[] = [], line: number[] = [];
  let inImport = false;
  source.split("\n").forEach((raw, i) => {
    const t = raw.trim();
    if (/^(import\b|export\s+(type\s+)?(\*|\{))/.test(t)) inImport = true;
    if (inImport) {
      // A statement ends at its module name (or at a `;` of an import without one).
      if (/\bfrom\s+["']|^import\s+["']|;$/.test(t) || (/^export\b/.test(t) && !/[{,]$/.test(t))) {
        inImport = false;
      }
      return;
    }
    if (!/[\p{L}\p{N}]/u.test(t)) return;
    text.push(t);
    line.push(i + 1);
  });
  return { file, text, line };
}

/** Each window's places (file index, normalised index), non-overlapping within a file. */
function windows(files: readonly Normalised[]): Map<string, [number, number][]> {
  const seen = new Map<string, [number, number][]>();
  files.forEach((f, fi) => {
    for (let i = 0; i + BLOCK_LINES_MIN <= f.text.length; i++) {
      const key = f.text.slice(i, i + BLOCK_LINES_MIN).join("\n");
      const at = seen.get(key) ?? [];
      const last = at.at(-1);
      if (last && last[0] === fi && i - last[1] < BLOCK_LINES_MIN) continue;
      at.push([fi, i]);
      seen.set(key, at);
    }
  });
  return seen;
}

/** The blocks of `files` (name → text) found in PLACES_MIN or more places, longest runs merged. */
function repeatedBlocks(files: ReadonlyMap<string, string>): RepeatedBlock[] {
  const norm = [...files].map(([file, text]) => normalise(file, text));
  const hits = [...windows(norm).values()].filter((at) => at.length >= PLACES_MIN);
  // A block of n lines shows as n - BLOCK_LINES_MIN + 1 windows, each a line further on: merged.
  const key = (at: [number, number][], shift: number) =>
    at.map(([f, i]) => `${f}:${i + shift}`).join(" ");
  const starts = new Set(hits.map((at) => key(at, 0)));
  return hits.filter((at) => !starts.has(key(at, -1))).map((at) => {
    let lines = BLOCK_LINES_MIN;
    while (starts.has(key(at, lines - BLOCK_LINES_MIN + 1))) lines++;
    const [f0, i0] = at[0]!;
    return {
      lines,
      first: norm[f0]!.text[i0]!,
      places: at.map(([f, i]) => `${norm[f]!.file}:${norm[f]!.line[i]}`),
    };
  });
}

function describe(b: RepeatedBlock): string {
  return `${b.lines} lines in ${b.places.length} places (${b.first}): ${b.places.join(", ")}`;
}

test("no block of six or more lines is repeated in three or more places in the source", () => {
  const paths = TOP.flatMap((top) => sources(join(ROOT, top)));
  const files = new Map(
    paths.map((p) => [relative(ROOT, p).split(sep).join("/"), readFileSync(p, "utf8")]),
  );
  const found = repeatedBlocks(files).map(describe);
  assert.equal(found, [], `blocks repeated (give each one home):\n${found.join("\n")}`);
});

const BLOCK = ["const a = read(x);", "if (a > 1) {", "  b(a);", "}", "c(a);", "d(a);", "e(a);"];

test("a block of six lines in three files is found, merged and placed; in two it is not", () => {
  const file = (pre: string[]) => [...pre, ...BLOCK, "f();"].join("\n");
  const three = new Map([["a.ts", file([])], ["b.ts", file(["x();", ""])], ["c.ts", file([])]]);
  assert.equal(repeatedBlocks(three).map(describe), [
    "7 lines in 3 places (const a = read(x);): a.ts:1, b.ts:3, c.ts:1",
  ]);
  three.delete("c.ts");
  assert.equal(repeatedBlocks(three), []);
});

test("reformatting does not hide a block; five lines, imports and brackets do not make one", () => {
  const indented = BLOCK.map((l) => `    ${l}`).join("\n\n");
  const files = new Map([["a.ts", BLOCK.join("\n")], ["b.ts", indented], ["c.ts", indented]]);
  assert.is(repeatedBlocks(files).length, 1);
  const five = BLOCK.filter((l) => l !== "}").slice(0, 5).join("\n");
  assert.equal(repeatedBlocks(new Map([["a", five], ["b", five], ["c", five]])), []);
  const imports =
    'import {\n  a,\n  b,\n  c,\n  d,\n  e,\n  f,\n} from "./x.ts";\nexport {\n  g,\n  h,\n' +
    '  i,\n  j,\n  k,\n  l,\n} from "./y.ts";';
  assert.equal(repeatedBlocks(new Map([["a", imports], ["b", imports], ["c", imports]])), []);
});

test.run();
