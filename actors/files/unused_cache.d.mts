/** Types of unused_cache.mjs (plain JavaScript: the compiler loads it before any TypeScript). */

/** How long a cache entry nobody started from is kept: a process running from it may load more. */
export declare const UNUSED_MS: number;

/** Marks a cache entry (a file or a folder) as used now, so that `pruneUnused` leaves it alone. */
export declare function markUsed(path: string): void;

/**
 * Removes the entries of `dir` whose names match `pattern` (but `keep`, a path) that nobody
 * marked used for UNUSED_MS. Best effort.
 */
export declare function pruneUnused(dir: string, pattern: RegExp, keep?: string): void;
