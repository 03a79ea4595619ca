/**
 * The NATS credentials of the commands: the `--nats-*` options, the `TROUPE_NATS_*` environment
 * variables under them, and, for a command talking to the nats-server `troupe up` started (found
 * through `nats.url`), the credentials `troupe up` wrote for the command's role in its data
 * directory. No option takes a secret itself (a password or token on a command line shows in
 * `ps` and shell history): those come from the environment, a config file or the files named.
 */
import { existsSync } from "node:fs";
import process from "node:process";
import {
  hasNatsAuth,
  mergeNatsAuth,
  NATS_AUTH_ENV,
  type NatsAuth,
  natsAuthFromEnv,
  type NatsRole,
  roleSeedPath,
  splitNatsUrl,
} from "../actors/runtime/mod.ts";
import { type OptionSpec, type ParsedArgs, str } from "./args.ts";
import {
  DATA_DIR_DEFAULT,
  type ResolvedNatsUrl,
  resolveNatsUrl,
} from "../actors/cluster/data_dir/mod.ts";

/** The option of each credential a command line may name, and the field it sets. */
const FLAG_FIELDS = {
  "nats-user": "user",
  "nats-creds": "creds",
  "nats-nkey": "nkey",
  "nats-ca": "ca",
  "nats-cert": "cert",
  "nats-key": "key",
} as const satisfies Record<string, keyof NatsAuth>;

/** The `--nats-*` options of every command that connects to NATS. */
/** The credentials' options as a usage line names them, on a line of its own. */
export const NATS_AUTH_USAGE =
  "\n       [--nats-user USER] [--nats-creds FILE] [--nats-nkey FILE] " +
  "[--nats-ca FILE] [--nats-cert FILE] [--nats-key FILE]";

export const NATS_AUTH_OPTIONS: Record<keyof typeof FLAG_FIELDS, OptionSpec> = {
  "nats-user": {
    type: "string",
    arg: "USER",
    help: `NATS user; its password from ${NATS_AUTH_ENV.password} (or nats://user:pass@ in the ` +
      `URL); a token from ${NATS_AUTH_ENV.token}`,
    defaultText: NATS_AUTH_ENV.user,
  },
  "nats-creds": {
    type: "string",
    arg: "FILE",
    help: "NATS .creds file (a user JWT and its nkey seed)",
    defaultText: NATS_AUTH_ENV.creds,
  },
  "nats-nkey": {
    type: "string",
    arg: "FILE",
    help: "File holding a NATS user nkey seed (SU...)",
    defaultText: `${NATS_AUTH_ENV.nkey}, or troupe up's for this command next to it`,
  },
  "nats-ca": {
    type: "string",
    arg: "FILE",
    help: "PEM file of the CA that signed the NATS server's certificate",
    defaultText: NATS_AUTH_ENV.ca,
  },
  "nats-cert": {
    type: "string",
    arg: "FILE",
    help: "PEM client certificate for NATS (with --nats-key)",
    defaultText: NATS_AUTH_ENV.cert,
  },
  "nats-key": {
    type: "string",
    arg: "FILE",
    help: "PEM private key of --nats-cert",
    defaultText: NATS_AUTH_ENV.key,
  },
};

/** The credentials `args` names, over those of the environment. */
export function natsAuthOf(
  args: ParsedArgs,
  env: Record<string, string | undefined> = process.env,
): NatsAuth {
  const flags: NatsAuth = {};
  for (const [option, field] of Object.entries(FLAG_FIELDS)) {
    const value = str(args, option);
    if (value !== undefined) flags[field] = value;
  }
  return mergeNatsAuth(flags, natsAuthFromEnv(env));
}

/** A NATS URL (safe to print), where it came from, and the credentials to connect with. */
export interface ResolvedNats extends ResolvedNatsUrl {
  auth: NatsAuth;
  /** Where `troupe up`'s files were looked for (`--data-dir`). */
  dataDir: string;
}

/**
 * Where and how a command connects: `--nats` (else `troupe up`'s URL, else the default), the
 * credentials of the command line, the environment and the URL; when none is given and the
 * server is `troupe up`'s (found through its file, or named by `--nats` as the file has it), the
 * credentials up wrote for `role`. `troupe up`'s files are looked for in `dataDir`: the command's
 * `--data-dir`, else the default.
 */
export function resolveNats(
  args: ParsedArgs,
  role: NatsRole,
  dataDir: string = str(args, "data-dir") ?? DATA_DIR_DEFAULT,
): ResolvedNats {
  const resolved = resolveNatsUrl(str(args, "nats"), dataDir);
  const { url, auth: inUrl } = splitNatsUrl(resolved.url);
  const given = mergeNatsAuth(natsAuthOf(args), inUrl);
  const upSeed = roleSeedPath(dataDir, role);
  const upsServer = resolved.from === "file" ||
    (resolved.from === "option" && resolveNatsUrl(undefined, dataDir).from === "file" &&
      resolveNatsUrl(undefined, dataDir).url === resolved.url);
  const auth = !hasNatsAuth(given) && upsServer && existsSync(upSeed) ? { nkey: upSeed } : given;
  return { url, from: resolved.from, auth, dataDir };
}
