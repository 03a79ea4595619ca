/**
 * The session's acknowledgements for `troupe incidents`' list: the incident stage holds the
 * incidents, the session document holds who acknowledged them (as the dashboard's panel shows
 * them), so the list reads both. The document is read as a viewer: the server and session come
 * from the target given (`--url`/`--session`) or `troupe up`'s collab.json, the token from the
 * target (`--token`), the file's viewer token, or one minted with the data directory's keyring
 * when the file's has expired.
 */
import process from "node:process";
import { type AckEntry, mintToken } from "../session/mod.ts";
import { loadKeyring } from "../server/mod.ts";
import { SessionUnreachableError, withSession } from "./with_session.ts";
import { COLLAB_FILE, readCollabFile } from "../../actors/cluster/data_dir/mod.ts";

/** The acks by incident id, or why they could not be read (the list is shown without them). */
export type SessionAcks = { acks: Map<string, AckEntry> } | { missing: string };

/** Where the acks are read: the data directory's collab.json, and what overrides it. */
export interface SessionAcksTarget {
  dataDir: string;
  /** The collab server's WebSocket URL; undefined: collab.json's. */
  url: string | undefined;
  /** undefined: collab.json's, else "main". */
  session: string | undefined;
  /** undefined: collab.json's viewer token, or one minted with the data directory's keyring. */
  token: string | undefined;
}

/** Reads the session's acks within `timeoutMs`; never throws for an absent or silent server. */
export async function readSessionAcks(
  target: SessionAcksTarget,
  timeoutMs: number,
): Promise<SessionAcks> {
  const { dataDir } = target;
  let file;
  try {
    file = readCollabFile(dataDir);
  } catch (err) {
    return { missing: (err as Error).message };
  }
  const url = target.url ?? (file && `${file.dashboard.replace(/^http/, "ws")}collab`);
  if (url === undefined) {
    return {
      missing: `no collab server (pass --url ws://HOST:PORT/collab, or run troupe up: it writes ` +
        `${dataDir}/${COLLAB_FILE})`,
    };
  }
  const session = target.session ?? file?.session ?? "main";
  let token = target.token ?? file?.token;
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
