/**
 * A host on several worker threads: the main thread's edge, the threads' hosts, and what they tell
 * each other.
 */
export {
  claimDataDir,
  defaultThreads,
  THREAD_YOUNG_GENERATION_MB,
  threadConfig,
  threadCount,
  ThreadedHost,
  type ThreadedHostOptions,
  threadsOf,
  threadsUnsupported,
} from "./threaded_host.ts";
