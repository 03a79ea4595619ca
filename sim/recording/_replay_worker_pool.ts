/**
 * The replay worker threads kept between replays in one process: a replay takes an idle worker
 * (its kernels' code already warm) or starts a fresh one, and gives it back when it ended well.
 */
import type { Worker } from "node:worker_threads";
import { startWorker } from "../../actors/threads/mod.ts";
import type { ReplayWorkerData } from "./_replay_worker.ts";

/** Idle workers kept for the next replay in this process, at most, per registry. */
const IDLE_WORKERS_MAX = 8;
/** An idle worker is ended after this long unused. */
const IDLE_MS = 30_000;

/**
 * Idle workers, by registry module ("" for ACTOR_KINDS). A fresh worker runs its first hundreds of
 * milliseconds of kernels cold (interpreted, then compiled as they get hot, on a small heap): a
 * million samples cost it about twice the CPU time they cost warm code. Workers are kept,
 * unreferenced (they never keep the process alive), for the next replay in the same process.
 */
const idle = new Map<string, Map<Worker, ReturnType<typeof setTimeout>>>();

/** A worker for a replay: an idle one, or a fresh one. */
export async function acquireWorker(registryKey: string): Promise<Worker> {
  const pool = idle.get(registryKey);
  if (pool) {
    for (const [worker, timer] of pool) {
      pool.delete(worker);
      clearTimeout(timer);
      worker.removeAllListeners("exit");
      worker.removeAllListeners("error");
      return worker;
    }
  }
  const workerData: ReplayWorkerData = {
    troupeReplayWorker: true,
    registryModule: registryKey === "" ? undefined : registryKey,
  };
  return await startWorker(new URL("./_replay_worker.ts", import.meta.url), { workerData });
}

/** Keeps a worker whose replay ended well for the next one (or ends it when enough are kept). */
export function releaseWorker(worker: Worker, registryKey: string): void {
  let pool = idle.get(registryKey);
  if (!pool) idle.set(registryKey, pool = new Map());
  if (pool.size >= IDLE_WORKERS_MAX) {
    worker.terminate().catch(() => {});
    return;
  }
  const drop = () => {
    const timer = pool.get(worker);
    if (timer !== undefined) clearTimeout(timer);
    pool.delete(worker);
  };
  worker.once("exit", drop);
  worker.once("error", () => {
    drop();
    worker.terminate().catch(() => {});
  });
  const timer = setTimeout(() => {
    drop();
    worker.terminate().catch(() => {});
  }, IDLE_MS);
  (timer as { unref?: () => void }).unref?.();
  worker.unref();
  pool.set(worker, timer);
}
