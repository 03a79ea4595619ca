/**
 * Where the commands find NATS. `troupe up` starts its nats-server on 4222, or on a random port
 * when 4222 is taken, and writes the URL it used to `<data dir>/nats.url` (removed when it stops);
 * `inject`, `record` and `ctl` read that file when `--nats` is absent, so they find the server
 * `troupe up` started wherever it listens. Without the file they use the default URL.
 */
import { join } from "node:path";
import type { OptionSpec } from "./args.ts";
import {
  DATA_DIR_DEFAULT,
  removeDiscoveryFile,
  type ResolvedUrl,
  resolveUrl,
  urlFile,
  writeDiscoveryFile,
} from "./discovery_file.ts";

export { DATA_DIR_DEFAULT };

/** The URL the commands use when neither `--nats` nor a `troupe up` in this directory says. */
export const NATS_URL_DEFAULT = "nats://127.0.0.1:4222";

/** The file in the data directory that holds the URL of `troupe up`'s nats-server. */
export const NATS_URL_FILE = "nats.url";

const FILE = urlFile(NATS_URL_FILE);

/** The --nats option of the commands that talk to a cluster, and where its URL comes from. */
export const NATS_OPTION: OptionSpec = {
  type: "string",
  arg: "URL",
  help: "NATS server",
  defaultText: `the one troupe up started, from ${DATA_DIR_DEFAULT}/${NATS_URL_FILE}, else ` +
    NATS_URL_DEFAULT,
};

/** A NATS URL and where it came from. */
export type ResolvedNatsUrl = ResolvedUrl;

/** The URL to use: `explicit` (--nats), else the one in `<dataDir>/nats.url`, else the default. */
export function resolveNatsUrl(
  explicit: string | undefined,
  dataDir = DATA_DIR_DEFAULT,
): ResolvedNatsUrl {
  return resolveUrl(explicit, { file: FILE, fallback: NATS_URL_DEFAULT, dataDir });
}

/** Says which server a command uses, when it is not the one the user named. */
export function describeNatsUrl(resolved: ResolvedNatsUrl): string {
  return resolved.from === "file"
    ? `${resolved.url} (troupe up's, from ${join(DATA_DIR_DEFAULT, NATS_URL_FILE)})`
    : resolved.url;
}

/** Writes `url` to `<dataDir>/nats.url` for the other commands to find. */
export function writeNatsUrl(dataDir: string, url: string): void {
  writeDiscoveryFile(dataDir, FILE, url);
}

/** Removes `<dataDir>/nats.url` if it still holds `url` (another `up` may have replaced it). */
export function removeNatsUrl(dataDir: string, url: string): void {
  removeDiscoveryFile(dataDir, FILE, url);
}
