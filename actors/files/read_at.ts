/**
 * A positioned read that fills what it is asked for: `readSync` may return fewer bytes than asked
 * (a pipe, a signal, a large request), so it is called again until the bytes are had or the file
 * ends.
 */
import { readSync } from "node:fs";

/**
 * Reads up to `n` bytes of file `fd` from byte `at` into `into` (from its start), stopping only at
 * the file's end; returns how many were read.
 */
export function readAt(fd: number, into: Uint8Array, n: number, at: number): number {
  let got = 0;
  while (got < n) {
    const k = readSync(fd, into, got, n - got, at + got);
    if (k === 0) break;
    got += k;
  }
  return got;
}
