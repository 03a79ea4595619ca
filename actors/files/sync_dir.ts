/**
 * A folder's names made durable: a file created, renamed or deleted in it survives a crash once
 * the folder itself is flushed. Best effort: not every platform can open a folder to flush it.
 */
import { closeSync, fsyncSync, openSync } from "node:fs";
import { open } from "node:fs/promises";

/** Flushes folder `dir`, on this thread. */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

/** Flushes folder `dir` off the event loop's thread (a host's snapshot does not wait on it). */
export async function syncDirAsync(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
