/**
 * Where `troupe watch` finds the stream gateway. `troupe up` writes `<data dir>/collab.json` with
 * the gateway's URL, the dashboard's URL and a viewer token (mode 0600: it opens the session's
 * data), and removes it when it stops; `troupe watch` reads it when `--url`/`--token` are absent.
 */
import {
  type DiscoveryFile,
  readDiscoveryFile,
  removeDiscoveryFile,
  writeDiscoveryFile,
} from "./discovery_file.ts";

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
  /**
   * The files of the user's kind modules the hosts run (absolute), so that watch knows the
   * findings they declare; absent when only troupe's own run.
   */
  kinds?: string[];
}

const FILE: DiscoveryFile<CollabFile> = {
  name: COLLAB_FILE,
  format: (file) => JSON.stringify(file, null, 2) + "\n",
  parse: parseCollabFile,
  identity: (file) => file.stream,
  mode: 0o600,
};

function parseCollabFile(text: string, path: string): CollabFile {
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
  if (
    f.kinds !== undefined &&
    (!Array.isArray(f.kinds) || f.kinds.some((k) => typeof k !== "string" || k === ""))
  ) {
    throw new Error(
      `Cannot read ${path}: "kinds" must be a list of module files, got ${JSON.stringify(f.kinds)}`,
    );
  }
  return f as CollabFile;
}

/** Writes `<dataDir>/collab.json`, readable by the owner only. */
export function writeCollabFile(dataDir: string, file: CollabFile): void {
  writeDiscoveryFile(dataDir, FILE, file);
}

/** Reads `<dataDir>/collab.json`; undefined when absent. Throws naming the file when malformed. */
export function readCollabFile(dataDir: string): CollabFile | undefined {
  return readDiscoveryFile(dataDir, FILE);
}

/**
 * Removes `<dataDir>/collab.json` if it still names `stream` (another `up` may have replaced it).
 */
export function removeCollabFile(dataDir: string, stream: string): void {
  removeDiscoveryFile(dataDir, FILE, stream);
}
