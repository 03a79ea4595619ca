/**
 * The `troupe` command's V8 flag (actors/runtime/host/heap_flags.mjs): with allocation-site
 * pretenuring off, a site whose objects a young-generation collection keeps finding alive still
 * allocates them young, so the program runs many more scavenges than one whose site V8 moved to
 * the old generation. The program below keeps its objects alive across collections (a window of
 * 20,000), the pattern that gets a site pretenured. Node only: Deno's `node:v8` sets no flag
 * (its own `--v8-flags` does).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT } from "../../../_support/cli.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("heap flags");
const nodeOnly = "Deno" in globalThis ? test.skip : test;
if ("Deno" in globalThis) {
  console.log("  SKIP  heap flags: Node's command sets them (Deno's node:v8 sets no flag)");
}

const CHURN = `
const [flags, apply] = process.argv.slice(2);
if (apply === "apply") (await import(flags)).applyHeapFlags();
let window = [];
for (let i = 0; i < 3e6; i++) {
  window.push({ a: i, b: i + 1 });
  if (window.length >= 20000) window = [];
}
`;

/** The scavenges the churning program runs with `nodeFlags`, the heap flags applied or not. */
function scavenges(dir: string, nodeFlags: string[], apply: boolean): number {
  const script = join(dir, "churn.mjs");
  writeFileSync(script, CHURN);
  const flags = pathToFileURL(join(ROOT, "actors", "runtime", "host", "heap_flags.mjs")).href;
  const out = execFileSync(
    process.execPath,
    // A 1 MiB semi-space: V8 pretenures a site only when the young generation is at its most.
    ["--max-semi-space-size=1", "--trace-gc", ...nodeFlags, script, flags, apply ? "apply" : "no"],
    { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
  );
  return out.split("\n").filter((l) => l.includes("Scavenge")).length;
}

nodeOnly("applyHeapFlags() keeps a churning site's objects young (pretenuring off)", () => {
  const dir = tempDir("troupe-heap-flags-");
  try {
    const pretenured = scavenges(dir.path, [], false);
    const young = scavenges(dir.path, [], true);
    assert.ok(
      young > 2 * pretenured,
      `with the flags applied ${young} scavenges, without ${pretenured}: expected twice as many`,
    );
    // The user's own flag about pretenuring stays.
    const theirs = scavenges(dir.path, ["--allocation-site-pretenuring"], true);
    assert.ok(
      theirs * 2 < young,
      `with --allocation-site-pretenuring given ${theirs} scavenges, with the flags ${young}`,
    );
  } finally {
    dir.remove();
  }
});

test("heapFlagsFor() gives a child the command's flags, less those its own flags speak of", async () => {
  const { heapFlagsFor, PRETENURING_FLAG, SEMI_SPACE_FLAG } = await import(
    "../../../../actors/runtime/host/heap_flags.mjs"
  );
  assert.equal(heapFlagsFor(""), [SEMI_SPACE_FLAG, PRETENURING_FLAG]);
  assert.equal(heapFlagsFor("--cpu-prof --max-semi-space-size=64"), [PRETENURING_FLAG]);
  assert.equal(heapFlagsFor("--allocation-site-pretenuring"), [SEMI_SPACE_FLAG]);
  assert.equal(heapFlagsFor("--max-semi-space-size=1 --no-allocation-site-pretenuring"), []);
});

test.run();
