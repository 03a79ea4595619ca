// Test support, preloaded into a troupe process (node --import, deno run --preload): once the
// file TROUPE_TEST_RECEIVER_DIES names exists, the metrics receiver's thread dies as a bug would
// end it. Node runs a preload in worker threads too: there it throws inside the receiver's
// thread, in a timer nothing catches. Deno runs it in the main thread only: there it ends the
// receiver's thread from outside, the worker found by the "started" message it sends (the one
// with the port it listens on: other threads say "started" too).
import { existsSync } from "node:fs";
import process from "node:process";
import { isMainThread, Worker, workerData } from "node:worker_threads";

const path = process.env.TROUPE_TEST_RECEIVER_DIES;

/** Runs `fn` once the file is there. */
function once(fn) {
  const poll = setInterval(() => {
    if (!existsSync(path)) return;
    clearInterval(poll);
    fn();
  }, 50);
  poll.unref?.();
}

if (path && !isMainThread && workerData?.receiverThread) {
  once(() =>
    setTimeout(() => {
      throw new TypeError("a bug: receiver_thread_dies.mjs throws in the receiver's thread");
    }, 0)
  );
} else if (path && isMainThread && "Deno" in globalThis) {
  const emit = Worker.prototype.emit;
  Worker.prototype.emit = function (name, message, ...rest) {
    const listening = message?.type === "started" && typeof message.port === "number";
    if (name === "message" && listening) once(() => void this.terminate());
    return emit.call(this, name, message, ...rest);
  };
}
