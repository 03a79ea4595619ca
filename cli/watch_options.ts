/**
 * `troupe watch`'s options read and checked (the gateway's URL and token from the data
 * directory's collab.json unless given); collab's findingSubscriptions makes the gateway
 * subscriptions they ask for.
 */
import { resolve } from "node:path";
import { type FindingKindName, findingKindNames } from "../collab/mod.ts";
import { duration, flag, num, type ParsedArgs, str, text, UsageError } from "./args.ts";
import { COLLAB_FILE, readCollabFile } from "../actors/cluster/data_dir/mod.ts";

/** What `troupe watch` is asked to show, and where from. */
export interface WatchOptions {
  /** The raw findings, not the incidents. */
  findings: boolean;
  url: string;
  token: string;
  kinds: FindingKindName[];
  channel: string | undefined;
  minSeverity: number;
  json: boolean;
  durationS: number;
  count: number;
}

/** The options of `args`, each checked: a bad one is a UsageError naming it and its value. */
export async function parseWatchArgs(args: ParsedArgs): Promise<WatchOptions> {
  const dataDir = text(args, "data-dir");
  let file;
  try {
    file = readCollabFile(dataDir);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // The user's kinds declare their findings as they load: watch then reads them as troupe's own.
  const modules = str(args, "kind-modules");
  // Loaded only when named: the kinds' door brings troupe's own kinds with it.
  if (modules !== undefined) {
    await (await import("./kinds_option.ts")).kindsOption(modules, "--kind-modules");
  } else if (file?.kinds?.length) await loadCollabKinds(file.kinds, dataDir);
  const known = findingKindNames();
  const kinds = (str(args, "kinds") ?? known.join(",")).split(",").map((k) => k.trim());
  for (const k of kinds) {
    if (!known.includes(k)) {
      throw new UsageError(
        `Option --kinds takes ${known.join(", ")}, got "${k}" in "${str(args, "kinds")}"` +
          " (a kind of your own's findings: name its module in --kind-modules)",
      );
    }
  }
  const channel = str(args, "channel");
  if (channel !== undefined && (channel === "" || /[\s.]/.test(channel))) {
    throw new UsageError(
      `Option --channel must be a glob without dots or spaces, got "${channel}"`,
    );
  }
  const minSeverity = num(args, "min-severity");
  const durationS = duration(args, "duration");
  const count = num(args, "count");
  const url = str(args, "url") ?? file?.stream;
  const token = str(args, "token") ?? file?.token;
  if (url !== undefined && !/^wss?:\/\/[^/]+\/stream$/.test(url)) {
    throw new UsageError(`Option --url must be ws://HOST:PORT/stream, got "${url}"`);
  }
  // The file's token opens the file's gateway only: another --url needs its own (it once said
  // "pass --url" to a user who had).
  if (str(args, "url") !== undefined && token === undefined) {
    throw new UsageError(
      `Option --url ${url} needs --token T, a token of that server's (troupe token --session S ` +
        "--role viewer, with its --data-dir)",
    );
  }
  if (url === undefined || token === undefined) {
    throw new UsageError(
      `No gateway to watch: pass --url ws://HOST:PORT/stream and --token T, or run troupe up ` +
        `with --data-dir ${dataDir} (it writes ${dataDir}/${COLLAB_FILE})`,
    );
  }
  return {
    findings: flag(args, "findings"),
    url,
    token,
    kinds,
    channel,
    minSeverity,
    json: flag(args, "json"),
    durationS,
    count,
  };
}

/** Loads the kind modules `troupe up` named in collab.json; a UsageError names what failed. */
async function loadCollabKinds(files: readonly string[], dataDir: string): Promise<void> {
  const { hostKinds } = await import("../actors/cluster/kinds/mod.ts");
  try {
    await hostKinds(files, resolve("."), `${dataDir}/${COLLAB_FILE} kinds`);
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (or name them in --kind-modules)`);
  }
}
