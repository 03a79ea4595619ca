/**
 * The arguments of `troupe incidents ack|silence|unsilence`: the collab server and session come
 * from `--url`/`--session` or from `troupe up`'s collab.json; the token from `--token` or minted
 * as an editor's with the data directory's keyring (whoever can read it can mint one with troupe
 * token). The edits themselves are collab's client (`ackIncident`, `addSilence`, `endSilence`).
 */
import { userInfo } from "node:os";
import process from "node:process";
import {
  checkSilence,
  IncidentEditError,
  type IncidentEditTarget,
  loadKeyring,
  mintToken,
  parseTtl,
  type SessionAcksTarget,
  SessionDocError,
} from "../collab/mod.ts";
import { type ParsedArgs, str, text, UsageError } from "./args.ts";
import { COLLAB_FILE, readCollabFile } from "../actors/cluster/data_dir/mod.ts";

/** Where `troupe incidents`' list reads the session's acks: the options given. */
export function acksTarget(args: ParsedArgs): SessionAcksTarget {
  const [url, session, token] = [str(args, "url"), str(args, "session"), str(args, "token")];
  return { dataDir: text(args, "data-dir"), url, session, token };
}

/** The collab server, session, token and author from the options or `troupe up`'s files. */
export async function editTarget(
  args: ParsedArgs,
  timeoutMs: number,
): Promise<IncidentEditTarget> {
  const dataDir = text(args, "data-dir");
  const file = readCollabFile(dataDir);
  const url = str(args, "url") ?? (file && `${file.dashboard.replace(/^http/, "ws")}collab`);
  if (url === undefined) {
    throw new IncidentEditError(
      `no collab server: pass --url ws://HOST:PORT/collab, or run troupe up (it writes ` +
        `${dataDir}/${COLLAB_FILE})`,
    );
  }
  const session = str(args, "session") ?? file?.session ?? "main";
  let token = str(args, "token");
  if (token === undefined && file === undefined && !process.env.TROUPE_SECRET) {
    throw new IncidentEditError(
      `no token: pass --token T (an editor's: troupe token --session ${session} --role editor), ` +
        `or run troupe up (its data directory's keyring mints one)`,
    );
  }
  if (token === undefined) {
    const keyring = await loadKeyring({ dataDir });
    token = await mintToken(keyring, { session, role: "editor", ttlS: 600, nowMs: Date.now() });
  }
  return { url, session, token, by: str(args, "by") ?? userInfo().username, timeoutMs };
}

/**
 * Checks `silence` arguments before anything connects: a bad matcher, duration or reason is a
 * usage error naming the field and value. Returns the duration in seconds.
 */
export function checkSilenceArgs(
  matchers: string,
  options: { for: string; reason: string },
): number {
  let forS: number;
  try {
    forS = parseTtl(options.for);
  } catch (err) {
    throw new UsageError(`Option --for ${(err as Error).message}`);
  }
  const now = Date.now();
  try {
    checkSilence("silence", {
      id: "new",
      matchers,
      starts_ms: now,
      ends_ms: now + Math.round(forS * 1000),
      by: "cli",
      reason: options.reason,
    }, now);
  } catch (err) {
    throw err instanceof SessionDocError ? new UsageError(err.message) : err;
  }
  return forS;
}
