/**
 * Where `troupe watch` finds the stream gateway. `troupe up` writes `<data dir>/collab.json` with
 * the gateway's URL, the dashboard's URL and a viewer token (mode 0600: it opens the session's
 * data), and removes it when it stops; `troupe watch` reads it when `--url`/`--token` are absent.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The file in the data directory. */
export const COLLAB_FILE = "collab.json";

/** What `troupe up` writes. */
export interface CollabFile {
  /** `ws://HOST:PORT/stream` */
  stream: string;
  /** `http://HOST:PORT/` */
  dashboard: string;
  session: string;
  /** A viewer token: watching needs no more. */
  token: string;
  /** The token's expiry, seconds since the epoch. */
  exp: number;
}

/** Writes `<dataDir>/collab.json`, readable by the owner only. */
export function writeCollabFile(dataDir: string, file: CollabFile): void {
  const path = join(dataDir, COLLAB_FILE);
  writeFileSync(path, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Reads `<dataDir>/collab.json`; undefined when absent. Throws naming the file when malformed. */
export function readCollabFile(dataDir: string): CollabFile | undefined {
  const path = join(dataDir, COLLAB_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`Cannot read ${path}: not JSON (${(err as Error).message})`);
  }
  const f = raw as Partial<CollabFile>;
  if (typeof f?.stream !== "string" || typeof f.token !== "string") {
    throw new Error(
      `Cannot read ${path}: it needs "stream" and "token" strings, got ${text.slice(0, 80)}`,
    );
  }
  return f as CollabFile;
}

/** Removes `<dataDir>/collab.json` if it still names `stream` (another `up` may have replaced it). */
export function removeCollabFile(dataDir: string, stream: string): void {
  try {
    if (readCollabFile(dataDir)?.stream === stream) rmSync(join(dataDir, COLLAB_FILE));
  } catch {
    // Already gone, or not ours.
  }
}
