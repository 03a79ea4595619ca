import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeValue } from "../../../protocol/mod.ts";
import {
  startWorker,
  workerExecArgv,
  workerModuleUrl,
} from "../../../actors/runtime/worker_thread.ts";

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
