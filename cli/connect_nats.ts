/**
 * A command's connection to NATS, or, when there is none, the one line on stderr that names the
 * server as the command found it (describeNatsUrl) and what to check.
 */
import { NatsBus } from "../actors/runtime/mod.ts";
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
    console.error(
      `troupe ${command}: cannot connect to NATS at ${describeNatsUrl(nats)}: ` +
        `${(err as Error).message}. ${hint}`,
    );
    return undefined;
  }
}
