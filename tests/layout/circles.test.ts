/**
 * No import circle between source files: a circle makes load order decide what a module sees
 * (a value imported from a module still loading is undefined), and ties its files into one that
 * cannot be read, tested or moved apart. Type-only imports count too: they cost nothing to cut
 * (a structural type, or the type moved to the file both import), and a circle of types is still
 * a circle of meaning.
 */
import { join, relative } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { importCircles, importGraph } from "./_import_circles.ts";
import { ROOT, sources, TOP } from "./_sources.ts";

const test = suite("import circles");

test("importCircles() finds a circle, a self-import and no circle in a chain", () => {
  const graph = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a", "d"]],
    ["d", ["e"]],
    ["e", []],
    ["f", ["f"]],
  ]);
  assert.equal(importCircles(graph).map((c) => c.join(" ")).sort(), ["a b c", "f"]);
  assert.equal(importCircles(new Map([["x", ["y"]], ["y", []]])), []);
});

test("no source file imports itself through others", () => {
  const files = TOP.flatMap((top) => sources(join(ROOT, top)));
  const graph = importGraph(files);
  const edges = [...graph.values()].reduce((n, to) => n + to.length, 0);
  assert.ok(edges > 1000, `only ${edges} imports between files found: is the scan broken?`);
  const circles = importCircles(graph).map((c) => c.map((f) => relative(ROOT, f)).join(" -> "));
  assert.equal(circles, [], `${circles.length} import circles:\n${circles.join("\n")}\n`);
});

test.run();
