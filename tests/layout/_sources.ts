/** The source files the layout tests read: every .ts/.mts/.mjs below the six source folders. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The source folders. */
export const TOP = ["protocol", "actors", "sim", "collab", "bench", "cli"];

/** Every source file below `dir` (node_modules, dot folders and .d.mts left out). */
export function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mts|mjs)$/.test(name) && !name.endsWith(".d.mts") ? [path] : [];
  });
}

/**
 * The 1-based numbers of the lines of `text` whose code `hit` matches: comment lines (`//`, `/*`,
 * `*`) are skipped, and a line's trailing `//` comment is cut before the test.
 */
export function codeLines(text: string, hit: (code: string) => boolean): number[] {
  const found: number[] = [];
  text.split("\n").forEach((line, i) => {
    const start = line.trimStart();
    if (start.startsWith("*") || start.startsWith("//") || start.startsWith("/*")) return;
    if (hit(line.replace(/\/\/.*$/, ""))) found.push(i + 1);
  });
  return found;
}
