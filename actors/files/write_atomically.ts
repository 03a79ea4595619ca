/** A file replaced whole: written aside, then renamed over the old one. */
import { closeSync, constants, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { open, rename } from "node:fs/promises";

/** Options of `writeAtomically`. */
export interface WriteAtomicallyOptions {
  /** Flush the file to the disk before the rename (default true): the new file survives a crash. */
  fsync?: boolean;
  /**
   * The file written aside (default `<path>.tmp`); a name of this process's own (`.<pid>.`) where
   * several processes may write the same path at once.
   */
  tmp?: string;
}

/**
 * Writes `data` to `path` through a file aside and a rename, so that a reader sees the old file
 * or the new one, never half of one.
 */
export function writeAtomically(
  path: string,
  data: string | Uint8Array,
  options: WriteAtomicallyOptions = {},
): void {
  const tmp = options.tmp ?? `${path}.tmp`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
    if (options.fsync ?? true) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * `writeAtomically` on the runtime's I/O threads: the calling thread only starts each step, so
 * that a large file (a journal segment's index at 400,000 streams is 19 MB) does not hold it while
 * the file is written and flushed to the disk. `data` must not change until it resolves.
 */
export async function writeAtomicallyAsync(
  path: string,
  data: Uint8Array,
  options: WriteAtomicallyOptions = {},
): Promise<void> {
  const tmp = options.tmp ?? `${path}.tmp`;
  const file = await open(tmp, "w");
  try {
    await file.writeFile(data);
    if (options.fsync ?? true) await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
