/**
 * The house rules of the tree, checked on every file: a folder with a `mod.ts` is entered through
 * it, a file whose name starts with `_` is private to its folder, and dependencies point one way
 * (`protocol` ← `actors` ← `sim`, `collab`, `bench` ← `cli`). Tests are exempt: they test
 * private files. A dynamic import names its module, so that these rules see it too (`troupe bench`
 * once loaded `bench/${name}.ts`, past the folder's mod.ts), and no shipped file imports a
 * devDependency, which an installed troupe lacks, but through bench's `devPackage()`, when a
 * benchmark that needs one runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { importsOf } from "./_import_circles.ts";
import { ROOT, sources, TOP } from "./_sources.ts";

/** What each top folder may import from the others. */
const ALLOWED: Record<string, readonly string[]> = {
  protocol: [],
  actors: ["protocol"],
  sim: ["protocol", "actors"],
  collab: ["protocol", "actors", "sim"],
  bench: ["protocol", "actors", "sim", "collab"],
  cli: ["protocol", "actors", "sim", "collab", "bench"],
};

/** The folder a file belongs to: the nearest folder with a mod.ts, else its top folder. */
function moduleOf(path: string): string {
  const rel = relative(ROOT, path).split(sep);
  for (let n = rel.length - 1; n >= 1; n--) {
    const dir = join(ROOT, ...rel.slice(0, n));
    if (existsSync(join(dir, "mod.ts"))) return dir;
  }
  return join(ROOT, rel[0]!);
}

function topOf(path: string): string {
  return relative(ROOT, path).split(sep)[0]!;
}

/** What is wrong with `from` importing `to`, or undefined. */
export function violation(from: string, to: string): string | undefined {
  const [fromTop, toTop] = [topOf(from), topOf(to)];
  if (fromTop !== toTop && !(ALLOWED[fromTop] ?? []).includes(toTop)) {
    return `${fromTop}/ may not depend on ${toTop}/`;
  }
  const name = to.slice(to.lastIndexOf(sep) + 1);
  if (name.startsWith("_") && dirname(to) !== dirname(from)) {
    return `${name} is private to its folder`;
  }
  const [fromMod, toMod] = [moduleOf(from), moduleOf(to)];
  if (fromMod === toMod) return undefined;
  // A folder inside another may use its enclosing folders' files (it is part of them).
  if (fromMod.startsWith(toMod + sep)) return undefined;
  if (to === join(toMod, "mod.ts")) return undefined;
  // A plain JavaScript module is entered as it is: what imports it (cli/_compile.mjs) runs before
  // any TypeScript, a folder's mod.ts included, can be loaded.
  if (to.endsWith(".mjs")) return undefined;
  return existsSync(join(toMod, "mod.ts"))
    ? `enter ${relative(ROOT, toMod)}/ through its mod.ts`
    : `${relative(ROOT, toMod)}/ has no mod.ts to enter it through`;
}

const test = suite("layout");

test("violation() names each kind of broken rule", () => {
  const p = (...parts: string[]) => join(ROOT, ...parts);
  assert.is(violation(p("actors", "anomaly", "kernel.ts"), p("protocol", "mod.ts")), undefined);
  assert.match(
    violation(p("protocol", "envelope.ts"), p("actors", "mod.ts")) ?? "",
    "protocol/ may not depend on actors/",
  );
  assert.match(
    violation(p("sim", "simulator.ts"), p("actors", "runtime", "_slot.ts")) ?? "",
    "_slot.ts is private to its folder",
  );
  assert.match(
    violation(p("sim", "simulator.ts"), p("actors", "runtime", "host.ts")) ?? "",
    "enter actors/runtime/ through its mod.ts",
  );
  assert.is(
    violation(p("actors", "runtime", "host.ts"), p("actors", "runtime", "_slot.ts")),
    undefined,
  );
});

test("importsOf() finds static, re-export, side-effect and dynamic imports", () => {
  const text = 'import { a } from "./a.ts";\nexport * from "../b/mod.ts";\n' +
    'import "./c.ts";\nconst m = await import("./d.ts");\nimport x from "xstate";\n' +
    'import type {\n  T,\n} from "./e.ts";\n';
  assert.equal(importsOf(text).sort(), ["../b/mod.ts", "./a.ts", "./c.ts", "./d.ts", "./e.ts"]);
});

test("every source file keeps the house rules", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const top of TOP) {
    for (const file of sources(join(ROOT, top))) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
        checked++;
        const why = violation(file, target);
        if (why) broken.push(`${relative(ROOT, file)} imports ${spec}: ${why}`);
      }
    }
  }
  assert.ok(checked > 100, `only ${checked} imports found: is the scan broken?`);
  assert.ok(
    broken.length === 0,
    `${broken.length} imports break the rules:\n${broken.join("\n")}\n`,
  );
});

/**
 * Dynamic imports whose module is computed, each for a reason: the compiled mirror of the CLI's own
 * sources, the registry module a user names for a replay on worker threads, and the kinds module a host runs.
 */
const COMPUTED_IMPORTS_ALLOWED = new Set([
  "cli/troupe.mjs: compiled",
  "sim/recording/_replay_worker.ts: data.registryModule",
  "actors/runtime/host/kinds_module.ts: href",
  // The modules of a user's kinds a host's configuration names.
  "actors/kind/load_kinds.ts: url",
  // The module of a user's kind, which the test kit's module check loads, and loads anew.
  "sim/kit/check_module.ts: href",
  "sim/kit/check_module.ts: fresh.href",
  // The package build imports the collab page's bundler from the JavaScript it has just written.
  'cli/_build_package.mjs: pathToFileURL(join(OUT, "collab", "web", "bundle.js"',
]);

/** The computed module specifiers of a file's dynamic imports (not a plain string literal). */
export function computedImportsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\bimport\(\s*([^)]*?)\s*\)/g)) {
    const spec = m[1]!;
    if (spec === "" || /^["'][^"'`]*["']$/.test(spec) || /^`[^`$]*`$/.test(spec)) continue;
    found.push(spec);
  }
  return found;
}

test("computedImportsOf() finds a template or variable specifier, not a literal one", () => {
  const text = 'await import("./a.ts");\nawait import(`../b/${name}.ts`);\n' +
    "await import(where);\nawait import('xstate');\n";
  assert.equal(computedImportsOf(text), ["`../b/${name}.ts`", "where"]);
});

test("every dynamic import names its module, but the listed few", () => {
  const found: string[] = [];
  for (const top of TOP) {
    for (const file of sources(join(ROOT, top))) {
      for (const spec of computedImportsOf(readFileSync(file, "utf8"))) {
        const at = `${relative(ROOT, file).split(sep).join("/")}: ${spec}`;
        if (!COMPUTED_IMPORTS_ALLOWED.has(at)) found.push(at);
      }
    }
  }
  assert.equal(found, [], `imports the layout rules cannot check:\n${found.join("\n")}`);
});

/** The devDependencies of package.json, but type packages (erased). */
function devDependencies(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  return Object.keys(pkg.devDependencies ?? {}).filter((name) => !name.startsWith("@types/"));
}

/** The package a bare specifier names: `@y/websocket-server/utils` -> `@y/websocket-server`. */
function packageOf(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** The devDependency imports of `text` that are neither type-only nor through devPackage(). */
export function devImportsOf(text: string, dev: readonly string[]): string[] {
  const found: string[] = [];
  const staticImport =
    /(?:^|\n)\s*(import|export)\s+(type\s)?[^;]*?\sfrom\s*["']([^."'][^"']*)["']/g;
  for (const m of text.matchAll(staticImport)) {
    if (!m[2] && dev.includes(packageOf(m[3]!))) found.push(m[3]!);
  }
  for (const m of text.matchAll(/(typeof\s+)?\bimport\(\s*["']([^."'][^"']*)["']\s*\)/g)) {
    if (m[1] || !dev.includes(packageOf(m[2]!))) continue;
    const before = text.slice(Math.max(0, m.index! - 80), m.index);
    if (!/devPackage\(\s*["'][^"']+["'],\s*\(\)\s*=>\s*$/.test(before)) found.push(m[2]!);
  }
  return found;
}

test("devImportsOf() passes type imports and devPackage(), and finds the rest", () => {
  const dev = ["playwright-core", "@y/websocket-server"];
  const text = 'import type { Page } from "playwright-core";\n' +
    'import { chromium } from "playwright-core";\n' +
    'const a = await import("playwright-core");\n' +
    'const b = await devPackage("@y/websocket-server", () => import("@y/websocket-server/utils"), "x");\n' +
    'type T = typeof import("playwright-core");\nimport { z } from "yjs";\n';
  assert.equal(devImportsOf(text, dev), ["playwright-core", "playwright-core"]);
});

test("no shipped file imports a devDependency but through devPackage(), when a benchmark runs", () => {
  const dev = devDependencies();
  assert.ok(dev.includes("playwright-core"), `devDependencies read: ${dev.join(", ")}`);
  const found: string[] = [];
  for (const top of TOP) {
    for (const file of sources(join(ROOT, top))) {
      for (const spec of devImportsOf(readFileSync(file, "utf8"), dev)) {
        found.push(`${relative(ROOT, file)} imports ${spec}`);
      }
    }
  }
  assert.equal(found, [], `devDependencies an installed troupe lacks:\n${found.join("\n")}`);
});

test.run();
