/**
 * What a collaboration server loads when it starts: everything `collab/mod.ts` imports statically
 * is evaluated before the first connection, and its memory stays resident for the server's life.
 * The simulator (`sim/`, with every actor kind behind it) is used only to read recordings, so it
 * is loaded when one is read, not with the server (its ~100 modules were ~12 MB of the bench
 * server's peak at 500 clients). Likewise the runtime's barrel, `actors/runtime/mod.ts` (the
 * host, the NATS and JetStream clients): the server takes its journal and snapshot store from the
 * journal's and snapshots' rooms, whose JetStream and KV forms are rooms of their own, and the
 * NATS parts only when it is given NATS.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The relative specifiers a module evaluates before it runs: static imports and re-exports, but
 * not `import type` / `export type` (erased) nor `import()` (evaluated when called). An import of
 * types written `import { type A }` counts: it over-approximates, so it can only fail this test
 * wrongly, never pass it wrongly.
 */
function staticImportsOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s*["'](\.[^"']+)["']/g,
    /(?:^|\n)\s*import\s*["'](\.[^"']+)["']/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

/** Every source file reached from `entry` through static imports. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImportsOf(readFileSync(file, "utf8"))) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
      if (existsSync(target)) todo.push(target);
    }
  }
  return seen;
}

const test = suite("collab start-up imports");

test("staticImportsOf() takes value imports and re-exports, not type-only or dynamic ones", () => {
  const text = 'import { a } from "./a.ts";\nexport * from "../b/mod.ts";\nimport "./c.ts";\n' +
    'const m = await import("./d.ts");\nimport type {\n  T,\n} from "./e.ts";\n' +
    'export type { U } from "./f.ts";\nimport { type V, w } from "./g.ts";\nimport x from "xstate";\n';
  assert.equal(staticImportsOf(text).sort(), ["../b/mod.ts", "./a.ts", "./c.ts", "./g.ts"]);
});

test("collab/mod.ts does not load the simulator when a server starts", () => {
  const reached = [...staticGraph(join(ROOT, "collab", "mod.ts"))].map((f) => relative(ROOT, f));
  assert.ok(reached.includes(join("collab", "server", "collab_server.ts")), "is the scan broken?");
  assert.ok(reached.some((f) => f.startsWith("protocol")), "is the scan broken?");
  const sim = reached.filter((f) => f.startsWith(`sim`));
  assert.equal(sim, [], `collab/mod.ts loads the simulator at start-up:\n${sim.join("\n")}\n`);
});

/** The packages `files` import statically (bare specifiers, type-only imports left out). */
function packagesOf(files: Iterable<string>): Set<string> {
  const found = new Set<string>();
  const re = /(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s*["']([^."'][^"']*)["']/g;
  for (const file of files) {
    for (const m of readFileSync(file, "utf8").matchAll(re)) found.add(m[1]!);
  }
  return found;
}

test("collab/mod.ts loads the runtime's storage, not the host nor the NATS clients, when a server starts", () => {
  const graph = staticGraph(join(ROOT, "collab", "mod.ts"));
  const reached = [...graph].map((f) => relative(ROOT, f));
  const runtime = join("actors", "runtime");
  assert.ok(reached.includes(join(runtime, "journal", "file_journal.ts")), "is the scan broken?");
  const unused = [
    "mod.ts",
    join("host", "host.ts"),
    join("transport", "nats_bus.ts"),
    join("journal", "jetstream", "jetstream_journal.ts"),
    join("snapshots", "kv", "kv_snapshot_store.ts"),
    join("control", "stream", "control_stream.ts"),
  ]
    .map((f) => join(runtime, f)).filter((f) => reached.includes(f));
  assert.equal(unused, [], `collab/mod.ts loads at start-up what a server without NATS never uses`);
  const packages = [...packagesOf(graph)];
  assert.ok(packages.includes("ws"), "is the package scan broken?");
  const nats = packages.filter((p) => p.startsWith("@nats-io/")).sort();
  assert.equal(nats, [], `collab/mod.ts loads the NATS clients at start-up`);
});

test.run();
