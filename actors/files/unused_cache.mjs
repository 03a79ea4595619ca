// @ts-self-types="./unused_cache.d.mts"
// Caches of built files (cli/_compile.mjs's compiled mirrors, actors/threads/worker_thread.ts's
// worker bundles) keep each entry while a process may still load from it: a process loads some
// modules lazily, so an entry is kept for a day after the last start from it, which marks it
// used (its modification time). Plain JavaScript: the compiler runs before any TypeScript can be
// loaded, and the compiled mirror and dist/ carry this file as it is.
import { readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";

/** How long a cache entry nobody started from is kept: a process running from it may load more. */
export const UNUSED_MS = 24 * 3600_000;

/** Marks a cache entry (a file or a folder) as used now, so that `pruneUnused` leaves it alone. */
export function markUsed(path) {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // Not worth failing a command or a worker over.
  }
}

/**
 * Removes the entries of `dir` whose names match `pattern` (but `keep`, a path) that nobody
 * marked used for UNUSED_MS. Best effort.
 */
export function pruneUnused(dir, pattern, keep) {
  try {
    const now = Date.now();
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (path === keep || !pattern.test(name)) continue;
      if (now - statSync(path).mtimeMs < UNUSED_MS) continue;
      rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // Not worth failing a command or a worker over.
  }
}
