/**
 * Where `troupe scan` finds a host's HTTP port. `troupe up` serves it on 9464, or on a free port
 * when 9464 is taken, and writes the URL to `<data dir>/http.url` (removed when it stops), as it
 * does NATS's (nats_url_file.ts); `troupe scan` reads it when `--url` is absent.
 */
import {
  DATA_DIR_DEFAULT,
  removeDiscoveryFile,
  type ResolvedUrl,
  resolveUrl,
  urlFile,
  writeDiscoveryFile,
} from "./discovery_file.ts";

/** The URL used when neither `--url` nor a `troupe up` in this directory says. */
export const HTTP_URL_DEFAULT = "http://127.0.0.1:9464";

/** The file in the data directory that holds the URL of `troupe up`'s host HTTP port. */
export const HTTP_URL_FILE = "http.url";

const FILE = urlFile(HTTP_URL_FILE);

/** The URL to use: `explicit` (--url), else the one in `<dataDir>/http.url`, else the default. */
export function resolveHttpUrl(
  explicit: string | undefined,
  dataDir = DATA_DIR_DEFAULT,
): ResolvedUrl {
  return resolveUrl(explicit, { file: FILE, fallback: HTTP_URL_DEFAULT, dataDir });
}

/** Writes `url` to `<dataDir>/http.url` for `troupe scan` to find. */
export function writeHttpUrl(dataDir: string, url: string): void {
  writeDiscoveryFile(dataDir, FILE, url);
}

/** Removes `<dataDir>/http.url` if it still holds `url` (another `up` may have replaced it). */
export function removeHttpUrl(dataDir: string, url: string): void {
  removeDiscoveryFile(dataDir, FILE, url);
}
