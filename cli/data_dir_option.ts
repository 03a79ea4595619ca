/** `--data-dir`: where the commands find what `troupe up` started (actors/cluster's data_dir). */
import { DATA_DIR_DEFAULT } from "../actors/cluster/data_dir/mod.ts";
import type { OptionSpec } from "./args.ts";

/** `--data-dir`, for the commands that find what `troupe up` started through its files. */
export const DATA_DIR_OPTION: OptionSpec = {
  type: "string",
  arg: "DIR",
  help: "Where troupe up's files are (nats.url, its seeds in nats-auth, http.url, collab.json)",
  default: DATA_DIR_DEFAULT,
};
