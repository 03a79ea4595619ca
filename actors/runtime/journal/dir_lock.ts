/**
 * A lock file that keeps two processes from writing one directory (a journal's, the packed
 * snapshot store's): `LOCK` holds the
 * owner's process id. Opening a directory whose lock names a live process other than this one
 * fails with an error naming it; a lock left by a process that died (a crash, `kill -9`) is taken
 * over. Within one process, a directory can be held once at a time.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";

/** The lock file's name inside the directory. */
export const LOCK_FILE = "LOCK";

/** Directories this process holds. */
const held = new Set<string>();

/** A held directory lock. */
export interface DirLock {
  /** Whether an earlier owner's lock was taken over, and whose. */
  readonly tookOverPid: number | undefined;
  /** Releases the lock and removes its file (idempotent). */
  release(): void;
  /** Lets go as a crash would: this process no longer holds the directory, the file stays. */
  abandon(): void;
}

/** Raised when another live process holds the directory. */
export class DirLockedError extends Error {
  override name = "DirLockedError";
  constructor(readonly dir: string, readonly pid: number, what = "journal directory") {
    super(
      `The ${what} ${dir} is in use by process ${pid} (lock file ${
        join(dir, LOCK_FILE)
      }): stop that process, or give this host another data_dir`,
    );
  }
}

/**
 * Takes the lock of `dir` (which must exist) for this process; `what` names the directory in the
 * error when another process holds it.
 */
export function lockDir(dir: string, what = "journal directory"): DirLock {
  const key = resolve(dir);
  const path = join(key, LOCK_FILE);
  if (held.has(key)) throw new DirLockedError(dir, process.pid, what);
  let tookOverPid: number | undefined;
  if (!create(path)) {
    const owner = readOwner(path);
    if (owner !== undefined && owner !== process.pid && alive(owner)) {
      throw new DirLockedError(dir, owner, what);
    }
    // The owner is gone (or was this process, which released it in a simulated crash): take
    // over, atomically, so a reader never sees a half-written lock.
    tookOverPid = owner;
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, "w");
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err) {
      // A full or failing disk: leave no half-written lock behind.
      try {
        unlinkSync(tmp);
      } catch {
        // Never created.
      }
      throw err;
    }
  }
  held.add(key);
  let done = false;
  return {
    tookOverPid,
    release() {
      if (done) return;
      done = true;
      held.delete(key);
      try {
        if (readOwner(path) === process.pid) unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    },
    abandon() {
      if (done) return;
      done = true;
      held.delete(key);
    },
  };
}

function create(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path); // a lock with no owner in it would stop the next host
    throw err;
  }
  closeSync(fd);
  return true;
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as { code?: string }).code === "EPERM";
  }
  return !zombie(pid);
}

/** Whether `pid` has exited but not been reaped (Linux; elsewhere, assumed not). */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}
