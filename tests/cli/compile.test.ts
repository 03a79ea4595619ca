import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compiledMain, rewriteSpecifiers } from "../../cli/_compile.mjs";

const test = suite("compiled mirror");

test("rewriteSpecifiers() points relative .ts imports, dynamic imports and URLs at .js, and nothing else", () => {
  const code = [
    'import { a } from "./a.ts";',
    "import { b } from '../x/b.ts';",
    'export * from "./c.ts";',
    "const m = await import(`../../bench/${name}.ts`);",
    'new URL("./_worker.ts", import.meta.url);',
    'const script = "bench/_injector.ts";', // not relative: a path the code maps itself
    'const pkg = "tsx/esm/api";',
    'const text = "see ./notes.tsx";',
  ].join("\n");
  assert.equal(rewriteSpecifiers(code).split("\n"), [
    'import { a } from "./a.js";',
    "import { b } from '../x/b.js';",
    'export * from "./c.js";',
    "const m = await import(`../../bench/${name}.js`);",
    'new URL("./_worker.js", import.meta.url);',
    'const script = "bench/_injector.ts";',
    'const pkg = "tsx/esm/api";',
    'const text = "see ./notes.tsx";',
  ]);
});

// Deno runs the TypeScript: the mirror is Node's alone.
const nodeOnly = "Deno" in globalThis ? test.skip : test;
if ("Deno" in globalThis) {
  console.log("  SKIP  compiled mirror: Node's alone (Deno runs the TypeScript)");
}

nodeOnly("compiledMain() gives an up-to-date mirror whose modules import .js files", async () => {
  const url = await compiledMain();
  assert.ok(url, "a mirror was made");
  const main = fileURLToPath(url!);
  assert.ok(existsSync(main));
  const host = main.replace(/cli[/\\]main\.js$/, "actors/runtime/host/host.js");
  const text = readFileSync(host, "utf8");
  assert.match(text, /from "\.\/[a-z_]+\.js"/);
  assert.not.match(text, /from "\.\.?\/[^"]*\.ts"/);
  // The plain JavaScript module the sources import is carried as it is.
  const files = main.replace(/cli[/\\]main\.js$/, "actors/files/");
  assert.match(readFileSync(`${files}mod.js`, "utf8"), /from "\.\/unused_cache\.mjs"/);
  assert.ok(existsSync(`${files}unused_cache.mjs`), "unused_cache.mjs is in the mirror");
  assert.is(await compiledMain(), url, "the same sources give the same mirror");
});

test.run();
