/**
 * A command's connection to NATS, or, when there is none, the one line on stderr that names the
 * server as the command found it (describeNatsUrl) and what to check: the command's hint, or,
 * when the server refused the credentials, which were given and where `troupe up`'s are.
 */
import { join } from "node:path";
import { describeNatsAuth, NATS_AUTH_DIR, NatsBus } from "../actors/runtime/mod.ts";
import { describeNatsUrl } from "./nats_url.ts";
import type { ResolvedNats } from "./nats_auth_options.ts";

/** Who connects and what to check when it cannot. */
export interface ConnectNatsOptions {
  /** The command: `troupe <command>` says why, and `troupe-<command>` names the connection. */
  command: string;
  /** What to check, after the reason: `Is troupe up running?`. */
  hint: string;
}

/** A connection to `nats`, or undefined once why not is said on stderr. */
export async function connectNats(
  nats: ResolvedNats,
  options: ConnectNatsOptions,
): Promise<NatsBus | undefined> {
  const { command, hint } = options;
  try {
    return await NatsBus.connect(nats.url, { name: `troupe-${command}`, auth: nats.auth });
  } catch (err) {
    const refused = isAuthorizationError(err);
    console.error(
      `troupe ${command}: cannot connect to NATS at ${describeNatsUrl(nats)}: ` +
        `${(err as Error).message}. ${refused ? credentialsHint(nats) : hint}`,
    );
    return undefined;
  }
}

/** Whether `err` is the server's refusal of the connection's credentials (or of none). */
export function isAuthorizationError(err: unknown): boolean {
  const e = err as Error;
  return e?.name === "AuthorizationError" || /authorization violation/i.test(e?.message ?? "");
}

/**
 * What to check when the server refused the credentials: those given (never a secret), and where
 * `troupe up` keeps a seed for each command's role, found through `--data-dir`.
 */
export function credentialsHint(nats: ResolvedNats): string {
  return `The server refused ${describeNatsAuth(nats.auth)}. A nats-server troupe up started ` +
    `keeps a seed for each command's role in DIR/${NATS_AUTH_DIR}, found with --data-dir DIR ` +
    `(looked in ${join(nats.dataDir, NATS_AUTH_DIR)}); for another server, give --nats-creds, ` +
    "--nats-nkey or --nats-user (docs/security.md)";
}
