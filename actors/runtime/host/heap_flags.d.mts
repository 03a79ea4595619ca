/** Types of actors/runtime/host/heap_flags.mjs (plain JavaScript: cli/troupe.mjs runs it first). */

/** The main thread's semi-space cap, given on node's command line (`#!` of cli/troupe.mjs). */
export declare const SEMI_SPACE_FLAG: string;

/** The flag set once the process runs. */
export declare const PRETENURING_FLAG: string;

/**
 * The flags a child process is started with, less those `given` (its own flags, as a command
 * line or NODE_OPTIONS holds them) speaks of already.
 */
export declare function heapFlagsFor(given: string): string[];

/**
 * Once the main isolate is made: turns allocation-site pretenuring off, unless the user's own
 * flags speak of it, and unsets the semi-space cap for the worker threads to come, unless
 * NODE_OPTIONS gives it.
 */
export declare function applyHeapFlags(): void;
