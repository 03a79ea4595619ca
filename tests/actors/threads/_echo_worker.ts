/** A worker thread for the worker_thread tests: answers each message with its msgpack encoding. */
import { parentPort, workerData } from "node:worker_threads";
import { encodeValue } from "../../../protocol/mod.ts";

parentPort?.on("message", (msg: unknown) => {
  parentPort!.postMessage({ echo: msg, bytes: encodeValue(msg), data: workerData });
});
