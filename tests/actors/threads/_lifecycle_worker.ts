/**
 * A worker thread for the thread_lifecycle tests, speaking the lifecycle as its `workerData.mode`
 * says: "start" starts (after `delayMs`) and, asked to stop, says it stopped with the ask's `n`
 * plus one; "missing" fails to start, naming the file it cannot read; "throw" throws as it loads;
 * "exit" exits with code 3; "silent" says nothing; "fatal" starts, logs a line, then fails twice.
 * It says `listening` first, and echoes a message that is not a stop.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { parentPort, workerData } from "node:worker_threads";
import { ThreadLifecycle } from "../../../actors/threads/mod.ts";

/** What the tests start the thread with. */
export interface LifecycleWorkerData {
  mode: "start" | "missing" | "throw" | "exit" | "silent" | "fatal";
  delayMs?: number;
  path?: string;
}

const data = workerData as LifecycleWorkerData;
const port = parentPort!;
const life = new ThreadLifecycle<{ answer: number }, { n: number }, { n: number }>(port, {
  stop: (ask) => life.stopped({ n: ask.n + 1 }),
});
port.on("message", (m: unknown) => {
  if (!life.take(m)) port.postMessage({ type: "echo", m });
});
// Said once it listens: on Deno a message that reaches a worker before it listens is lost.
port.postMessage({ type: "listening" });

if (data.mode === "throw") throw new Error("a bug as it loads");
if (data.mode === "exit") process.exit(3);
if (data.mode === "missing") {
  try {
    readFileSync(data.path!);
    life.start({ answer: 0 });
  } catch (err) {
    life.fail(`Cannot read ${data.path}: ${(err as Error).message}`);
  }
}
if (data.mode === "start" || data.mode === "fatal") {
  setTimeout(() => {
    life.start({ answer: 42 });
    if (data.mode !== "fatal") return;
    life.log("a line for the log");
    life.fail("the work broke");
    life.fail("and broke again");
  }, data.delayMs ?? 0);
}
