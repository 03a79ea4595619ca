/**
 * The one way troupe starts a worker thread, on Node and on Deno (see worker_thread.ts). A folder
 * of its own, apart from the runtime, so that a light process (the bench injector, a feed or replay
 * worker) can start threads without loading the host and its journals.
 */
export {
  startWorker,
  type StartWorkerOptions,
  workerModuleUrl,
  workerModuleUrls,
} from "./worker_thread.ts";
