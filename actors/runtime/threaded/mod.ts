/**
 * A host on several worker threads: the main thread's edge, the threads' hosts, and what they tell
 * each other.
 */
export {
  THREAD_YOUNG_GENERATION_MB,
  ThreadedHost,
  type ThreadedHostOptions,
} from "./threaded_host.ts";
export {
  defaultThreads,
  threadChannelShare,
  threadConfig,
  threadCount,
  threadsUnsupported,
} from "./thread_config.ts";
export { claimDataDir, threadsOf } from "./data_dir_claim.ts";
