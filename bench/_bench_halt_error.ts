/**
 * The error a benchmark throws when it cannot run here (a binary it starts is not installed, a
 * server it started did not come up) or was stopped (Ctrl-C): `troupe bench` says its message
 * alone, never with a stack, and exits with its code.
 */

/** A benchmark that cannot run here, or was stopped; `exitCode` is the command's (1, or 130). */
export class BenchHaltError extends Error {
  override name = "BenchHaltError";
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}
