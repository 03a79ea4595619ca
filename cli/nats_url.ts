/**
 * Where the commands find NATS. `troupe up` starts its nats-server on 4222, or on a random port
 * when 4222 is taken, and writes the URL it used to `<data dir>/nats.url` (removed when it stops);
 * `inject`, `record` and `ctl` read that file when `--nats` is absent, so they find the server
 * `troupe up` started wherever it listens. Without the file they use the default URL.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The URL the commands use when neither `--nats` nor a `troupe up` in this directory says. */
export const NATS_URL_DEFAULT = "nats://127.0.0.1:4222";

/** The data directory `troupe up` uses by default, where the commands look for `nats.url`. */
export const DATA_DIR_DEFAULT = ".troupe";

/** The file in the data directory that holds the URL of `troupe up`'s nats-server. */
export const NATS_URL_FILE = "nats.url";

/** The help line of a `--nats` option. */
export const NATS_OPTION_HELP =
  `NATS server (default: the one troupe up started, from ${DATA_DIR_DEFAULT}/${NATS_URL_FILE}, ` +
  `else ${NATS_URL_DEFAULT})`;

/** A NATS URL and where it came from. */
export interface ResolvedNatsUrl {
  url: string;
  /** `option`: --nats; `file`: the nats.url `troupe up` wrote; `default`: neither. */
  from: "option" | "file" | "default";
}

/** The URL to use: `explicit` (--nats), else the one in `<dataDir>/nats.url`, else the default. */
export function resolveNatsUrl(
  explicit: string | undefined,
  dataDir = DATA_DIR_DEFAULT,
): ResolvedNatsUrl {
  if (explicit !== undefined) return { url: explicit, from: "option" };
  const path = join(dataDir, NATS_URL_FILE);
  if (existsSync(path)) {
    const url = readFileSync(path, "utf8").trim();
    if (url !== "") return { url, from: "file" };
  }
  return { url: NATS_URL_DEFAULT, from: "default" };
}

/** Says which server a command uses, when it is not the one the user named. */
export function describeNatsUrl(resolved: ResolvedNatsUrl): string {
  return resolved.from === "file"
    ? `${resolved.url} (troupe up's, from ${join(DATA_DIR_DEFAULT, NATS_URL_FILE)})`
    : resolved.url;
}

/** Writes `url` to `<dataDir>/nats.url` for the other commands to find. */
export function writeNatsUrl(dataDir: string, url: string): void {
  writeFileSync(join(dataDir, NATS_URL_FILE), `${url}\n`);
}

/** Removes `<dataDir>/nats.url` if it still holds `url` (another `up` may have replaced it). */
export function removeNatsUrl(dataDir: string, url: string): void {
  const path = join(dataDir, NATS_URL_FILE);
  try {
    if (readFileSync(path, "utf8").trim() === url) rmSync(path);
  } catch {
    // Already gone.
  }
}
