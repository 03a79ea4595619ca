/**
 * The session's acknowledgements for `troupe incidents`' list: the incident stage holds the
 * incidents, the session document holds who acknowledged them (as the dashboard's panel shows
 * them), so the list reads both. The document is read as a viewer: the server and session come
 * from `--url`/`--session` or `troupe up`'s collab.json, the token from `--token`, the file's
 * viewer token, or one minted with the data directory's keyring when the file's has expired.
 */
import process from "node:process";
import {
  type AckEntry,
  loadKeyring,
  mintToken,
  SessionUnreachableError,
  withSession,
} from "../collab/mod.ts";
import { type ParsedArgs, str, text } from "./args.ts";
import { COLLAB_FILE, readCollabFile } from "../actors/cluster/data_dir/mod.ts";

/** The acks by incident id, or why they could not be read (the list is shown without them). */
export type SessionAcks = { acks: Map<string, AckEntry> } | { missing: string };

/** Reads the session's acks within `timeoutMs`; never throws for an absent or silent server. */
export async function readSessionAcks(args: ParsedArgs, timeoutMs: number): Promise<SessionAcks> {
  const dataDir = text(args, "data-dir");
  let file;
  try {
    file = readCollabFile(dataDir);
  } catch (err) {
    return { missing: (err as Error).message };
  }
  const url = str(args, "url") ?? (file && `${file.dashboard.replace(/^http/, "ws")}collab`);
  if (url === undefined) {
    return {
      missing: `no collab server (pass --url ws://HOST:PORT/collab, or run troupe up: it writes ` +
        `${dataDir}/${COLLAB_FILE})`,
    };
  }
  const session = str(args, "session") ?? file?.session ?? "main";
  let token = str(args, "token") ?? file?.token;
  const expired = file !== undefined && token === file.token && file.exp * 1000 <= Date.now();
  if (token === undefined || expired) {
    if (file === undefined && !process.env.TROUPE_SECRET) {
      return { missing: `no token for ${url}: pass --token T (troupe token --role viewer)` };
    }
    const keyring = await loadKeyring({ dataDir });
    token = await mintToken(keyring, { session, role: "viewer", ttlS: 600, nowMs: Date.now() });
  }
  try {
    return await withSession({ url, session, token, timeoutMs }, (inc) => ({
      acks: new Map([...inc.acks.entries()]),
    }));
  } catch (err) {
    if (err instanceof SessionUnreachableError) return { missing: err.message };
    throw err;
  }
}
