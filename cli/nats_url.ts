/**
 * The `--nats` option of the commands that talk to a cluster, and how a command names the server
 * it uses when the URL came from `troupe up`'s `<data dir>/nats.url` (actors/cluster's data_dir).
 */
import { join } from "node:path";
import type { OptionSpec } from "./args.ts";
import {
  DATA_DIR_DEFAULT,
  NATS_URL_DEFAULT,
  NATS_URL_FILE,
  type ResolvedNatsUrl,
} from "../actors/cluster/data_dir/mod.ts";

/** The --nats option of the commands that talk to a cluster, and where its URL comes from. */
export const NATS_OPTION: OptionSpec = {
  type: "string",
  arg: "URL",
  help: "NATS server",
  defaultText: `the one troupe up started, from DIR/${NATS_URL_FILE} (--data-dir DIR), else ` +
    NATS_URL_DEFAULT,
};

/**
 * Says which server a command uses, when it is not the one the user named: found in `dataDir`
 * (`troupe up`'s, the command's `--data-dir`).
 */
export function describeNatsUrl(
  resolved: ResolvedNatsUrl & { dataDir?: string },
): string {
  return resolved.from === "file"
    ? `${resolved.url} (troupe up's, from ${
      join(resolved.dataDir ?? DATA_DIR_DEFAULT, NATS_URL_FILE)
    })`
    : resolved.url;
}
