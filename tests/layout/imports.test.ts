/**
 * The house rules of the tree, checked on every file: a folder with a `mod.ts` is entered through
 * it, a file whose name starts with `_` is private to its folder, and dependencies point one way
 * (`protocol` ← `actors` ← `sim`, `collab`, `bench` ← `cli`). Tests are exempt: they test
 * private files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TOP = ["protocol", "actors", "sim", "collab", "bench", "cli"];
/** What each top folder may import from the others. */
const ALLOWED: Record<string, readonly string[]> = {
  protocol: [],
  actors: ["protocol"],
  sim: ["protocol", "actors"],
  collab: ["protocol", "actors", "sim"],
  bench: ["protocol", "actors", "sim", "collab"],
  cli: ["protocol", "actors", "sim", "collab", "bench"],
};

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mts|mjs)$/.test(name) && !name.endsWith(".d.mts") ? [path] : [];
  });
}

/** The relative specifiers a file imports, statically or dynamically. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\b[^;]*?\sfrom\s*["'](\.[^"']+)["']/g,
    /(?:^|\n)\s*import\s*["'](\.[^"']+)["']/g,
    /\bimport\(\s*["'`](\.[^"'`$]+)["'`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

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

test.run();
