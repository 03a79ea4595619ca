/**
 * The discovery files `troupe up` leaves in its data directory for the other commands to find what
 * it started, wherever it listens: `nats.url`, `http.url` and `collab.json`. One helper writes,
 * reads and removes them all, so that each says only its name, its text and who may read it; a
 * file is removed only while it still holds what this `up` wrote (another `up` may have replaced
 * it since).
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The data directory `troupe up` uses by default, where the commands look for its files. */
export const DATA_DIR_DEFAULT = ".troupe";

/** A discovery file: its name and how its value reads and writes. */
export interface DiscoveryFile<T> {
  /** The file's name in the data directory. */
  name: string;
  /** The file's text for `value`. */
  format(value: T): string;
  /** The value of `text` (read from `path`); undefined when it holds none. Throws naming `path`
   *  when malformed. */
  parse(text: string, path: string): T | undefined;
  /** What identifies a value, for removing only one's own file. */
  identity(value: T): string;
  /** The file's mode: 0o600 when it holds a secret (a token). */
  mode?: number;
}

/** Writes `value` to `<dataDir>/<file.name>`. */
export function writeDiscoveryFile<T>(dataDir: string, file: DiscoveryFile<T>, value: T): void {
  const path = join(dataDir, file.name);
  const mode = file.mode;
  writeFileSync(path, file.format(value), mode === undefined ? {} : { mode });
  // writeFileSync's mode applies to a new file only; an old one keeps its own without this.
  if (mode !== undefined) chmodSync(path, mode);
}

/** The value in `<dataDir>/<file.name>`; undefined when the file is absent or empty. */
export function readDiscoveryFile<T>(dataDir: string, file: DiscoveryFile<T>): T | undefined {
  const path = join(dataDir, file.name);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  return file.parse(text, path);
}

/** Removes `<dataDir>/<file.name>` if it still holds the value whose identity is `identity`. */
export function removeDiscoveryFile<T>(
  dataDir: string,
  file: DiscoveryFile<T>,
  identity: string,
): void {
  try {
    const held = readDiscoveryFile(dataDir, file);
    if (held !== undefined && file.identity(held) === identity) {
      rmSync(join(dataDir, file.name));
    }
  } catch {
    // Already gone, or not ours.
  }
}

/** A discovery file that holds one URL on a line. */
export function urlFile(name: string): DiscoveryFile<string> {
  return {
    name,
    format: (url) => `${url}\n`,
    parse: (text) => text.trim() || undefined,
    identity: (url) => url,
  };
}

/** A URL and where it came from: `option` (the command line), `file` (`troupe up`'s discovery
 *  file), `default` (neither). */
export interface ResolvedUrl {
  url: string;
  from: "option" | "file" | "default";
}

/** The URL to use: `explicit`, else the one in `<dataDir>/<file.name>`, else `fallback`. */
export function resolveUrl(
  explicit: string | undefined,
  options: { file: DiscoveryFile<string>; fallback: string; dataDir?: string },
): ResolvedUrl {
  if (explicit !== undefined) return { url: explicit, from: "option" };
  const url = readDiscoveryFile(options.dataDir ?? DATA_DIR_DEFAULT, options.file);
  return url === undefined ? { url: options.fallback, from: "default" } : { url, from: "file" };
}
