/**
 * The walkthrough's commands as a user runs them, from the packed troupe installed into a fresh
 * project: docs/write_your_own_actor.md's kind (§2) and its test (§3), written there as the page
 * gives them and run with the page's command for this runtime (Node 20 through tsx, or `deno
 * test`), so the test kit's checks run from the installed package against the user's module; and
 * docs/library.md's command for the installed `troupe` on Deno.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT } from "../_support/cli.ts";
import { packedProject } from "../_support/packed_troupe.ts";

const test = suite("the walkthrough from the installed package");
const isDeno = process.env.TROUPE_TEST_RUNTIME === "deno";
const DENO = join(ROOT, "node_modules/.bin/deno");

/** The fenced block of `lang` that follows the first line holding `after` in `doc`. */
function docBlock(doc: string, after: string, lang: string): string {
  const text = readFileSync(join(ROOT, "docs", doc), "utf8");
  const at = text.indexOf(after);
  assert.ok(at >= 0, `docs/${doc} says "${after}"`);
  const open = text.indexOf("```" + lang + "\n", at);
  const close = text.indexOf("\n```", open + 1);
  return text.slice(open + lang.length + 4, close + 1);
}

/** Runs `cmd` in `cwd`; its exit code and output. */
function run(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      // Deno colours its report whatever NO_COLOR says when the test harness forces colour.
      resolve({
        code,
        out: out.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"), ""),
      });
    });
  });
}

test("the walkthrough's test of its kind passes, run as the page says on this runtime", async () => {
  const { dir: project } = await packedProject();
  const work = mkdtempSync(join(project, `walk-${isDeno ? "deno" : "node"}-`));
  try {
    mkdirSync(join(work, "actors"));
    const doc = "write_your_own_actor.md";
    writeFileSync(join(work, "actors", "level.ts"), docBlock(doc, "Write `actors/level.ts`", "ts"));
    const testTs = docBlock(doc, "`actors/level.test.ts`", "ts");
    assert.match(testTs, "checkModule(");
    assert.match(testTs, "checkControl(");
    writeFileSync(join(work, "actors", "level.test.ts"), testTs);
    const lines = docBlock(doc, "Run it on Node 20 through tsx", "sh").trim().split("\n");
    const line = lines.find((l) => l.startsWith(isDeno ? "deno " : "node "));
    assert.ok(line, lines.join("\n"));
    const [cmd, ...args] = line!.split(/\s+/);
    const r = await run(cmd === "deno" ? DENO : process.execPath, args, work);
    assert.is(r.code, 0, `${line}:\n${r.out}`);
    assert.match(r.out, isDeno ? /ok \| 1 passed/ : /# pass 1/, r.out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("docs/library.md's command runs the installed troupe on Deno", async () => {
  if (!isDeno) return;
  const { dir: project } = await packedProject();
  const text = readFileSync(join(ROOT, "docs", "library.md"), "utf8");
  const command = /`(deno run -A node_modules\/troupe\/[^`]+)`/.exec(text)?.[1];
  assert.ok(command, "docs/library.md gives the installed command on Deno");
  const [, ...args] = command!.split(/\s+/);
  const r = await run(DENO, [...args, "up", "--help"], project);
  assert.is(r.code, 0, `${command}:\n${r.out}`);
  assert.match(r.out, "Usage: troupe up");
  assert.not.match(r.out, "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING");
});

test.run();
