/**
 * The lifecycle a worker thread and its parent speak (actors/threads/thread_lifecycle.ts), on real
 * worker threads (_lifecycle_worker.ts): the parent's wait for the start resolves with what the
 * thread said, or rejects naming the thread and why (what it said, its error, its exit, the
 * time); the thread's side holds a stop asked while it starts, and says a failure once.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { tmpdir } from "node:os";
import process from "node:process";
import type { Worker } from "node:worker_threads";
import {
  type LifecycleMessage,
  startWorker,
  stopThread,
  ThreadStartError,
  untilStarted,
} from "../../../actors/threads/mod.ts";
import type { LifecycleWorkerData } from "./_lifecycle_worker.ts";

const test = suite("thread_lifecycle");
const THREAD = "the test thread";

function start(data: LifecycleWorkerData): Promise<Worker> {
  return startWorker(new URL("./_lifecycle_worker.ts", import.meta.url), { workerData: data });
}

/** A message of the thread's, lifecycle or not. */
type Said = { type: string } & Record<string, unknown>;

/** Everything `worker` says from now on, and a wait for its first message of `type`. */
function listen(worker: Worker): { said: Said[]; when(type: string): Promise<void> } {
  const said: Said[] = [];
  const waits: Array<[string, () => void]> = [];
  worker.on("message", (m: Said) => {
    said.push(m);
    for (const [type, resolve] of waits) if (m.type === type) resolve();
  });
  return {
    said,
    when: (type) =>
      said.some((m) => m.type === type)
        ? Promise.resolve()
        : new Promise((resolve) => void waits.push([type, resolve])),
  };
}

/** Resolves with "exited" once `worker` exits, or "running" after `ms`. */
function exitWithin(worker: Worker, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("running"), ms);
    worker.once("exit", () => {
      clearTimeout(timer);
      resolve("exited");
    });
  });
}

/** The ThreadStartError the start of a thread of `data` rejects with. */
async function startError(
  data: LifecycleWorkerData,
  timeoutMs?: number,
): Promise<ThreadStartError> {
  const worker = await start(data);
  try {
    const options = timeoutMs === undefined ? { thread: THREAD } : { thread: THREAD, timeoutMs };
    const err = await untilStarted(worker, options).then(() => undefined, (e: unknown) => e);
    assert.instance(err, ThreadStartError, `it started: ${String(err)}`);
    return err as ThreadStartError;
  } finally {
    await worker.terminate();
  }
}

test("untilStarted() resolves with what a thread that starts said, and stopThread() gets its stopped message", async () => {
  const worker = await start({ mode: "start" });
  const exit = exitWithin(worker, 5000);
  try {
    const started = await untilStarted<{ answer: number }>(worker, { thread: THREAD });
    assert.equal(started, { type: "started", answer: 42 });
    const stopped = await stopThread<{ n: number }, { n: number }>(worker, { ask: { n: 6 } });
    assert.equal(stopped, { type: "stopped", n: 7 });
    assert.is(await exit, "exited", "stopThread() left the thread running");
  } finally {
    await worker.terminate();
  }
});

test("untilStarted() rejects naming the thread and the cause it said when it cannot start", async () => {
  const path = join(tmpdir(), `troupe-no-such-file-${process.pid}.json`);
  const err = await startError({ mode: "missing", path });
  assert.is(err.name, "ThreadStartError");
  assert.is(err.thread, THREAD);
  assert.ok(err.said, "the reason is not the thread's own");
  assert.match(err.reason, new RegExp(`^Cannot read ${path.replaceAll(".", "\\.")}: .*ENOENT`));
  assert.is(err.message, `${THREAD}: ${err.reason}`);
});

test("untilStarted() rejects naming the thread and the error it threw as it loaded", async () => {
  const err = await startError({ mode: "throw" });
  assert.not.ok(err.said);
  assert.ok(err.message.startsWith(`${THREAD}: `), err.message);
  assert.match(err.message, "a bug as it loads");
});

test("untilStarted() rejects naming the thread and its exit code when it exits first", async () => {
  const err = await startError({ mode: "exit" });
  assert.is(err.message, `${THREAD}: exited (code 3) before it started`);
});

test("untilStarted() rejects naming the thread when it says nothing within timeoutMs", async () => {
  const err = await startError({ mode: "silent" }, 300);
  assert.is(err.message, `${THREAD}: did not start in 300 ms`);
});

test("a stop asked while a thread starts runs once it has started", async () => {
  const worker = await start({ mode: "start", delayMs: 300 });
  const heard = listen(worker);
  try {
    await heard.when("listening");
    const stopped = await stopThread<{ n: number }, { n: number }>(worker, { ask: { n: 1 } });
    assert.equal(stopped, { type: "stopped", n: 2 });
    assert.equal(heard.said.map((m) => m.type), ["listening", "started", "stopped"]);
  } finally {
    await worker.terminate();
  }
});

test("a started thread's failure is said once, as fatal, after its log lines", async () => {
  const worker = await start({ mode: "fatal" });
  const heard = listen(worker);
  try {
    await untilStarted(worker, { thread: THREAD });
    worker.postMessage({ type: "ping" });
    // The echo comes after everything the thread said before it.
    await heard.when("echo");
    const lifecycle: LifecycleMessage<{ answer: number }>[] = [
      { type: "started", answer: 42 },
      { type: "log", message: "a line for the log" },
      { type: "fatal", message: "the work broke" },
    ];
    assert.equal(heard.said.slice(0, -1), [{ type: "listening" }, ...lifecycle]);
  } finally {
    await worker.terminate();
  }
});

test.run();
