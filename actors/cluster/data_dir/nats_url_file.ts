/**
 * Where the commands find `troupe up`'s nats-server: `<data dir>/nats.url`, written when it
 * starts (on NATS's own port or a free one) and removed when it stops; read when no URL is named.
 */
import {
  DATA_DIR_DEFAULT,
  removeDiscoveryFile,
  type ResolvedUrl,
  resolveUrl,
  urlFile,
  writeDiscoveryFile,
} from "./discovery_file.ts";

/** The URL the commands use when neither `--nats` nor a `troupe up` in this directory says. */
export const NATS_URL_DEFAULT = "nats://127.0.0.1:4222";

/** The file in the data directory that holds the URL of `troupe up`'s nats-server. */
export const NATS_URL_FILE = "nats.url";

const FILE = urlFile(NATS_URL_FILE);

/** A NATS URL and where it came from. */
export type ResolvedNatsUrl = ResolvedUrl;

/** The URL to use: `explicit` (--nats), else the one in `<dataDir>/nats.url`, else the default. */
export function resolveNatsUrl(
  explicit: string | undefined,
  dataDir = DATA_DIR_DEFAULT,
): ResolvedNatsUrl {
  return resolveUrl(explicit, { file: FILE, fallback: NATS_URL_DEFAULT, dataDir });
}

/** Writes `url` to `<dataDir>/nats.url` for the other commands to find. */
export function writeNatsUrl(dataDir: string, url: string): void {
  writeDiscoveryFile(dataDir, FILE, url);
}

/** Removes `<dataDir>/nats.url` if it still holds `url` (another `up` may have replaced it). */
export function removeNatsUrl(dataDir: string, url: string): void {
  removeDiscoveryFile(dataDir, FILE, url);
}
