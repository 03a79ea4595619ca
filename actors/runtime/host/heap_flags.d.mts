/** Types of actors/runtime/host/heap_flags.mjs (plain JavaScript: cli/troupe.mjs runs it first). */

/** The main thread's semi-space cap, given on node's command line (`#!` of cli/troupe.mjs). */
export declare const SEMI_SPACE_FLAG: string;

/** The flag set once the process runs. */
export declare const PRETENURING_FLAG: string;

/** glibc's malloc asked for transparent huge pages (`GLIBC_TUNABLES`, read at process start). */
export declare const MALLOC_TUNABLES: string;

/**
 * The `GLIBC_TUNABLES` a child process is started with: `given`, with MALLOC_TUNABLES before it
 * unless it speaks of malloc's huge pages already.
 */
export declare function mallocTunablesFor(given: string | undefined): string;

/**
 * The flags a child process is started with, less those `given` (its own flags, as a command
 * line or NODE_OPTIONS holds them) speaks of already.
 */
export declare function heapFlagsFor(given: string): string[];

/**
 * Once the main isolate is made: turns allocation-site pretenuring off, unless the user's own
 * flags speak of it, and sets the worker threads' semi-space cap to what NODE_OPTIONS gives, or
 * unsets it so that each worker gets its own limits.
 */
export declare function applyHeapFlags(): void;

/**
 * What to tell a user whose NODE_OPTIONS asks for a semi-space cap other than the one node's
 * command line gives (Node lets the command line win), naming how to start node with theirs;
 * undefined otherwise.
 */
export declare function semiSpaceNotice(
  nodeOptions: string,
  execArgv: readonly string[],
  script: string,
): string | undefined;
