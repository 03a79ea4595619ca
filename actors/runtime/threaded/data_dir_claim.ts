/**
 * A threaded host's data directory is for one thread count, since an instance's journal is under
 * the thread that owned it: `threads.json` says which, and a start with another count is refused.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HostFatalError } from "../transport/mod.ts";

/** The file that says for how many threads a data directory is. */
const THREADS_FILE = "threads.json";

/**
 * Claims `dir` for `threads` threads: refuses one written for another count (an instance's journal
 * is under the thread that owned it), or a lone host's journal; records the count in a new one.
 */
export function claimDataDir(dir: string, threads: number): void {
  const file = join(dir, THREADS_FILE);
  const was = threadsOf(dir);
  if (was !== undefined) {
    if (was !== threads) {
      throw new HostFatalError(
        `Cannot run ${dir} on ${threads} threads: its journals were written by ${
          JSON.stringify(was)
        } ` +
          `(${file}); run with --threads ${JSON.stringify(was)}, or start a new data directory`,
      );
    }
    return;
  }
  if (existsSync(join(dir, "journal"))) {
    throw new HostFatalError(
      `Cannot run ${dir} on ${threads} threads: it holds a one-thread host's journal ` +
        `(${join(dir, "journal")}); run with --threads 1, or start a new data directory`,
    );
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify({ threads }) + "\n");
}

/** The thread count `dir` was written by, if a threaded host wrote it. */
export function threadsOf(dir: string): number | undefined {
  const file = join(dir, THREADS_FILE);
  if (!existsSync(file)) return undefined;
  let was: unknown;
  try {
    was = (JSON.parse(readFileSync(file, "utf8")) as { threads?: unknown }).threads;
  } catch (err) {
    throw new HostFatalError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  if (typeof was !== "number" || !Number.isInteger(was) || was < 1) {
    throw new HostFatalError(
      `Cannot read ${file}: "threads" must be a whole number >= 1, got ${JSON.stringify(was)}`,
    );
  }
  return was;
}
