/**
 * Where `troupe scan` finds a host's HTTP port. `troupe up` serves it on 9464, or on a free port
 * when 9464 is taken, and writes the URL to `<data dir>/http.url` (removed when it stops), as it
 * does NATS's (nats_url.ts); `troupe scan` reads it when `--url` is absent.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATA_DIR_DEFAULT } from "./nats_url.ts";

/** The URL used when neither `--url` nor a `troupe up` in this directory says. */
export const HTTP_URL_DEFAULT = "http://127.0.0.1:9464";

/** The file in the data directory that holds the URL of `troupe up`'s host HTTP port. */
export const HTTP_URL_FILE = "http.url";

/** The URL to use: `explicit` (--url), else the one in `<dataDir>/http.url`, else the default. */
export function resolveHttpUrl(
  explicit: string | undefined,
  dataDir = DATA_DIR_DEFAULT,
): { url: string; from: "option" | "file" | "default" } {
  if (explicit !== undefined) return { url: explicit, from: "option" };
  const path = join(dataDir, HTTP_URL_FILE);
  if (existsSync(path)) {
    const url = readFileSync(path, "utf8").trim();
    if (url !== "") return { url, from: "file" };
  }
  return { url: HTTP_URL_DEFAULT, from: "default" };
}

/** Writes `url` to `<dataDir>/http.url` for `troupe scan` to find. */
export function writeHttpUrl(dataDir: string, url: string): void {
  writeFileSync(join(dataDir, HTTP_URL_FILE), `${url}\n`);
}

/** Removes `<dataDir>/http.url` if it still holds `url` (another `up` may have replaced it). */
export function removeHttpUrl(dataDir: string, url: string): void {
  const path = join(dataDir, HTTP_URL_FILE);
  try {
    if (readFileSync(path, "utf8").trim() === url) rmSync(path);
  } catch {
    // Already gone.
  }
}
