/**
 * A simulation's trace written to a file, a line each, in chunks: a long run's is never one
 * string.
 */
import { closeSync, openSync, writeSync } from "node:fs";

/** Characters of trace written at a time: a long run's trace is never one string. */
export const TRACE_WRITE_CHARS = 1 << 20;

/** Writes a trace's lines to `path`, each ended by a newline. */
export function writeTrace(path: string, trace: readonly string[]): void {
  const fd = openSync(path, "w");
  try {
    let chunk = "";
    for (const line of trace) {
      chunk += line + "\n";
      if (chunk.length >= TRACE_WRITE_CHARS) {
        writeSync(fd, chunk);
        chunk = "";
      }
    }
    writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}
