/**
 * What the command loads at start ships with it: the modules `troupe --help`, `troupe up` and
 * `troupe run` import statically (type-only imports are erased; `import()` runs later, when asked)
 * include no benchmark and no devDependency, which an installed troupe lacks. `.ci/run` starts them
 * in a copy installed with `npm install --omit=dev`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT } from "./_sources.ts";

/** The specifiers `text` imports at load: static imports and re-exports, not type-only ones. */
export function loadImportsOf(text: string): string[] {
  const found: string[] = [];
  const from = /(?:^|\n)\s*(?:import|export)\s+(type\s)?[^;]*?\sfrom\s*["']([^"']+)["']/g;
  for (const m of text.matchAll(from)) if (!m[1]) found.push(m[2]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*["']([^"']+)["']/g)) found.push(m[1]!);
  return found;
}

/** Every file and bare package loaded with `entries`, following relative load imports. */
function loadClosure(entries: readonly string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [...entries];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of loadImportsOf(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
        if (existsSync(target)) todo.push(target);
      } else if (!spec.startsWith("node:")) {
        const parts = spec.split("/");
        packages.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
      }
    }
  }
  return { files, packages };
}

const test = suite("command start");

test("loadImportsOf() keeps value imports and re-exports, not type-only or dynamic ones", () => {
  const text = 'import { a } from "./a.ts";\nimport type { B } from "./b.ts";\n' +
    'export { c } from "xstate";\nimport "./d.ts";\nconst e = await import("./e.ts");\n' +
    'export type { F } from "./f.ts";\n';
  assert.equal(loadImportsOf(text), ["./a.ts", "xstate", "./d.ts"]);
});

test("troupe --help, up and run load no benchmark and no devDependency at start", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const dev = Object.keys(pkg.devDependencies ?? {}).filter((n) => !n.startsWith("@types/"));
  const entries = ["cli/main.ts", "cli/commands/up.ts", "cli/commands/run.ts"]
    .map((f) => join(ROOT, f));
  const { files, packages } = loadClosure(entries);
  assert.ok(files.size > 50, `only ${files.size} files loaded: is the scan broken?`);
  const bench = [...files].filter((f) => relative(ROOT, f).split(sep)[0] === "bench")
    .map((f) => relative(ROOT, f));
  assert.equal(bench, [], `benchmarks loaded at start: ${bench.join(", ")}`);
  assert.equal([...packages].filter((p) => dev.includes(p)), []);
});

test.run();
