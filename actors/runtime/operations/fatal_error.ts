/**
 * Errors that stop a host: at start (the data directory locked by another process, the HTTP port
 * taken, NATS unreachable, a read-only or full disk, a damaged file) and at run time (the disk
 * fills, the journal's file cannot be written). Each is told in one line that names the cause and
 * the value (the file, the port, the URL, the other process id), for a supervisor's log: never a
 * stack trace.
 */

/** A fatal error of a host; `message` is one line. */
export class HostFatalError extends Error {
  override name = "HostFatalError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
  }
}

/** System error codes no retry fixes: the disk is full, read-only, or failing. */
const FATAL_IO_CODES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO", "EACCES", "EPERM", "EBADF"]);

/** The system error code of `err` or of one of its causes. */
export function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether `err` (or its cause) is a disk error that retrying will not fix. */
export function isFatalIoError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && FATAL_IO_CODES.has(code);
}

/** What a system error code means, in words. */
const CODE_WORDS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
  EADDRINUSE: "address already in use",
  ECONNREFUSED: "connection refused",
};

/** `err` in one line: its message's first line, with its system error code explained. */
export function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  let line = oneLine(message);
  if (line === "") line = err instanceof Error ? err.name : "unknown error";
  const code = errorCode(err);
  if (code && CODE_WORDS[code] && !line.includes(code)) {
    line += ` (${code}: ${CODE_WORDS[code]})`;
  }
  return line;
}

function oneLine(message: string): string {
  return message.split("\n").map((s) => s.trim()).filter(Boolean).join(" ").trim();
}
