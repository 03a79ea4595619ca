/**
 * `troupe bench --list` loads every benchmark in bench/ and prints one line for each; `troupe
 * bench` with no name prints the same list and exits 2, a usage error that says so on stderr.
 * bench/mod.ts, the folder's entry, is not a benchmark (it once was listed, and the list ended in
 * an error). A benchmark's bad option is a usage error too, naming the option and its value,
 * before anything starts; `--explain` on a benchmark without it names the one that has it.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, runTroupe } from "../_support/cli.ts";

const test = suite("bench list");

/** Each benchmark file's name, as the command spells it (a file can't have the dash of a name
 *  such as remote-write, so `_` and `-` are one here). */
const BENCHES = readdirSync(join(ROOT, "bench"))
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_") && f !== "mod.ts")
  .map((f) => f.slice(0, -3))
  .sort();
const spelled = (name: string) => name.replaceAll("-", "_");

test("troupe bench --list names every benchmark with its summary, and exits 0", async () => {
  const r = await runTroupe(["bench", "--list"]);
  assert.is(r.stderr.replace(/^npm warn.*\n/gm, ""), "", "nothing on stderr");
  assert.is(r.code, 0, r.stderr);
  const listed = r.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]!);
  assert.equal(listed.map(spelled).sort(), BENCHES);
  for (const line of r.stdout.trim().split("\n")) {
    assert.ok(line.slice(13).trim().length > 10, `a summary on "${line}"`);
  }
  assert.ok(BENCHES.length >= 15, `${BENCHES.length} benchmarks`);
});

test("troupe bench with no name lists them too, as a usage error (exit 2) that says so", async () => {
  const r = await runTroupe(["bench"]);
  assert.is(r.code, 2, r.stderr);
  assert.ok(r.stdout.includes("detect "), r.stdout);
  assert.is(
    r.stderr.replace(/^npm warn.*\n/gm, ""),
    "troupe bench: Name a benchmark: troupe bench <name> [options] (listed above)\n" +
      "Run troupe bench --help for its options.\n",
  );
});

test("a benchmark's bad option is a usage error naming it (dashboard's --chromium-flags)", async () => {
  const r = await runTroupe(["bench", "dashboard", "--chromium-flags=--in-process-gpu gpu"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "Option --chromium-flags takes Chromium switches");
  assert.match(r.stderr, '"gpu" is not one');
  // The options are the benchmark's: the hint points at its help (it pointed at troupe bench's).
  assert.match(r.stderr, "Run troupe bench dashboard --help for its options.");
});

test("--explain on a benchmark without it is a usage error naming the one that has it", async () => {
  const r = await runTroupe(["bench", "codec", "--explain"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "Option --explain is not troupe bench codec's");
  assert.match(r.stderr, "in troupe bench detect --explain");
});

test.run();
