/**
 * The one way troupe starts a worker thread, on Node and on Deno (see worker_thread.ts), and the
 * lifecycle its threads and their parents speak (thread_lifecycle.ts). A folder of its own, apart
 * from the runtime, so that a light process (the bench injector, a feed or replay worker) can
 * start threads without loading the host and its journals.
 */
export {
  type LifecycleMessage,
  type LifecyclePort,
  stopThread,
  type StopThreadOptions,
  type ThreadFailed,
  type ThreadFatal,
  ThreadLifecycle,
  type ThreadLifecycleOptions,
  type ThreadLog,
  type ThreadStarted,
  ThreadStartError,
  type ThreadStop,
  type ThreadStopped,
  untilStarted,
  type UntilStartedOptions,
} from "./thread_lifecycle.ts";
export {
  startWorker,
  type StartWorkerOptions,
  workerModuleUrl,
  workerModuleUrls,
} from "./worker_thread.ts";
