import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { encodeValue } from "../../../protocol/mod.ts";
import {
  startWorker,
  workerExecArgv,
  workerModuleUrl,
} from "../../../actors/threads/worker_thread.ts";

const test = suite("worker_thread");
const isDeno = "Deno" in globalThis;

test("startWorker runs a TypeScript module and its imports on a worker thread", async () => {
  const worker = await startWorker(new URL("./_echo_worker.ts", import.meta.url), {
    workerData: { n: 7 },
  });
  try {
    const reply = new Promise<{ echo: unknown; bytes: Uint8Array; data: unknown }>(
      (resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      },
    );
    worker.postMessage({ hello: [1, 2.5, "x"] });
    const r = await reply;
    assert.equal(r.echo, { hello: [1, 2.5, "x"] });
    assert.equal(r.data, { n: 7 });
    assert.equal([...r.bytes], [...encodeValue({ hello: [1, 2.5, "x"] })]);
  } finally {
    await worker.terminate();
  }
});

test("workerModuleUrl gives the module itself on Deno, the same bundle file on Node", async () => {
  const entry = new URL("./_echo_worker.ts", import.meta.url);
  const a = await workerModuleUrl(entry);
  const b = await workerModuleUrl(entry);
  assert.is(a.href, b.href);
  if (isDeno) assert.is(a.href, entry.href);
  else assert.match(a.href, /\/troupe-worker-bundles\/_echo_worker-[0-9a-f]{16}\.mjs$/);
});

// Deno runs workers from the TypeScript itself: bundles are Node's alone.
const nodeOnly = isDeno ? test.skip : test;
if (isDeno) console.log("  SKIP  worker bundle pruning: Node's alone (Deno runs the TypeScript)");

nodeOnly(
  "building a bundle removes bundles no worker started from for a day, and keeps the rest",
  async () => {
    const bundles = join(tmpdir(), "troupe-worker-bundles");
    mkdirSync(bundles, { recursive: true });
    const stale = join(bundles, "zz_pruned-0123456789abcdef.mjs");
    const recent = join(bundles, "zz_kept-0123456789abcdef.mjs");
    writeFileSync(stale, "export {};\n");
    writeFileSync(recent, "export {};\n");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    // A module no bundle was built from yet, so that a build runs.
    const dir = mkdtempSync(join(tmpdir(), "troupe-test-"));
    try {
      const entry = join(dir, "fresh_worker.ts");
      writeFileSync(entry, `export const made = ${Date.now()};\n`);
      const url = await workerModuleUrl(pathToFileURL(entry));
      assert.ok(existsSync(fileURLToPath(url)), "the new bundle exists");
      assert.not.ok(existsSync(stale), "a bundle unused for two days was removed");
      assert.ok(existsSync(recent), "a bundle used recently was kept");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(recent, { force: true });
    }
  },
);

test("workerExecArgv drops tsx's loader and keeps the other options", () => {
  assert.is(workerExecArgv([]), undefined);
  assert.is(workerExecArgv(["--max-semi-space-size=4", "--cpu-prof"]), undefined);
  assert.equal(workerExecArgv(["--import", "tsx", "--cpu-prof"]), ["--cpu-prof"]);
  assert.equal(workerExecArgv(["--import=tsx/esm", "--enable-source-maps"]), [
    "--enable-source-maps",
  ]);
  assert.equal(
    workerExecArgv(["--require", "/x/node_modules/tsx/dist/cjs/index.cjs", "--import", "./a.mjs"]),
    ["--import", "./a.mjs"],
  );
});

test.run();
