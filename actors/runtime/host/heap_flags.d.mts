/** Types of actors/runtime/host/heap_flags.mjs (plain JavaScript: cli/troupe.mjs runs it before any TypeScript). */

/** Turns V8's allocation-site pretenuring off, unless the user's own flags speak of it. */
export declare function applyHeapFlags(): void;

/** The flags, as Node's command line takes them. */
export declare const HEAP_FLAGS: readonly string[];

/** Whether `flags` (a command line's, NODE_OPTIONS) already speak of pretenuring. */
export declare function speaksOfHeapFlags(flags: string): boolean;
