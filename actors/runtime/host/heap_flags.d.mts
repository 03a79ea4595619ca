/** Types of actors/runtime/host/heap_flags.mjs (plain JavaScript: cli/troupe.mjs runs it first). */

/** The main thread's semi-space cap, given on node's command line (`#!` of cli/troupe.mjs). */
export declare const SEMI_SPACE_FLAG: string;

/** The flag set once the process runs. */
export declare const PRETENURING_FLAG: string;

/**
 * glibc's malloc asked for transparent huge pages and fixed mmap and trim thresholds
 * (`GLIBC_TUNABLES`, read at process start).
 */
export declare const MALLOC_TUNABLES: string;

/**
 * The `GLIBC_TUNABLES` a child process is started with: `given`, with MALLOC_TUNABLES before it
 * unless it starts with them already; what `given` says after them wins.
 */
export declare function mallocTunablesFor(given: string | undefined): string;

/**
 * The flags a child process is started with, less those `given` (its own flags, as a command
 * line or NODE_OPTIONS holds them) speaks of already.
 */
export declare function heapFlagsFor(given: string): string[];

/**
 * Once the main isolate is made: turns allocation-site pretenuring off, unless the user's own
 * flags speak of it; sets the worker threads' semi-space cap to what NODE_OPTIONS gives, or
 * unsets it so that each worker gets its own limits; and, with `holdYoung` (the default), holds
 * the young generation at its size until the old generation is as large as the young one's cap,
 * unless the user's flags speak of its growth.
 */
export declare function applyHeapFlags(options?: { holdYoung?: boolean }): void;

/** The commands whose young generation is not held (computations run to their end). */
export declare const UNHELD_COMMANDS: ReadonlySet<string>;

/** The young generation kept at its size (V8's semi-space growth factor of 1). */
export declare const YOUNG_HELD_FLAG: string;

/** V8's own growth factor, which lets the young generation grow to its cap. */
export declare const YOUNG_GROWING_FLAG: string;

/**
 * Holds the young generation at its size until the old generation holds `youngCapBytes` just
 * after a full collection (seen without a callback at every collection); then lets V8 grow it.
 */
export declare function holdYoungGeneration(youngCapBytes: number): void;

/** Whether the young generation is held (`holdYoungGeneration`) and not yet let go. */
export declare function youngGenerationHeld(): boolean;

/** The bytes the heap's spaces other than the young generation's hold (dead ones among them). */
export declare function oldGenerationBytes(): number;

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
