/**
 * `troupe up`'s collaboration server: started beside the hosts on the same bus (its bridge reaches
 * them), announced (the owner's token, the dashboard's URL, `troupe watch`'s way in), and
 * `<data-dir>/collab.json` written for watch.
 */
import { join } from "node:path";
import type { HostConfig, NatsAuth } from "../actors/runtime/mod.ts";
import type { Bus } from "../protocol/mod.ts";
import {
  COLLAB_JOURNAL_STREAM,
  launchCollab,
  type LaunchedCollab,
  mintToken,
} from "../collab/mod.ts";
import {
  type CollabFile,
  DATA_DIR_DEFAULT,
  writeCollabFile,
} from "../actors/cluster/data_dir/mod.ts";
import type { HostKinds, UpHosts } from "../actors/cluster/mod.ts";
import { onPreferredPort } from "../actors/cluster/mod.ts";

/** The collaboration server's and dashboard's port when it is free (y-websocket's usual one). */
export const COLLAB_PORT = 1234;

/** What of `troupe up`'s options the collaboration server needs. */
export interface UpCollabOptions {
  dataDir: string;
  collabPort: number | undefined;
  journal: "file" | "jetstream";
  /** The kinds the hosts run: collab.json names the user's modules for watch. */
  kinds?: HostKinds;
  /**
   * A connection of the bridge's own, with the bridge role's credentials, when troupe up's
   * nats-server has users (the hosts' bus may not send incident control); else it shares `bus`.
   */
  bridge?: { nats: string; auth: NatsAuth };
}

/** The collaboration server beside the hosts, on the same bus (its bridge reaches them). */
export function startCollab(
  o: UpCollabOptions,
  bus: Bus,
  launched: UpHosts,
  kind: HostConfig["journal"]["kind"],
): Promise<LaunchedCollab> {
  const launch = (port: number) =>
    launchCollab({
      dataDir: o.dataDir,
      port,
      ...(o.bridge ? { nats: o.bridge.nats, natsAuth: o.bridge.auth } : { bus }),
      // The node id names the collab journal's streams in JetStream: the same on every run.
      nodeId: "up-1-collab",
      journal: collabJournalOf(kind),
      // The dashboard's /api/* proxy reaches the scan service on the host's HTTP port.
      scanUrl: launched.httpPort === undefined || !launched.scans
        ? undefined
        : `http://127.0.0.1:${launched.httpPort}`,
    });
  return o.collabPort === undefined ? onPreferredPort(COLLAB_PORT, launch) : launch(o.collabPort);
}

/** Prints the collab server's, the dashboard's and watch's ways in; writes collab.json. */
export async function announceCollab(
  o: UpCollabOptions,
  collab: LaunchedCollab,
): Promise<CollabFile> {
  // The owner's token: whoever ran troupe up owns the session; links for the team
  // (viewer or editor) come from troupe token.
  const ownerToken = await mintToken(collab.keyring, {
    session: "main",
    role: "owner",
    ttlS: 8 * 3600,
    nowMs: Date.now(),
  });
  console.log(
    `troupe up: collab server ${collab.server.url} (y-websocket; session "main", owner token ` +
      `${ownerToken}; more with troupe token --data-dir ${o.dataDir})`,
  );
  if (o.journal === "jetstream") {
    console.log(
      `troupe up: collab documents in JetStream (stream ${COLLAB_JOURNAL_STREAM}, ` +
        `node ${collab.server.nodeId})`,
    );
  }
  // The dashboard and the stream gateway: the URL to open, and collab.json for
  // troupe watch (a viewer token: watching needs no more).
  const collabFile = await dashboardFile(collab, o.dataDir, o.kinds);
  console.log(`troupe up: dashboard ${collabFile.dashboard}?session=main&token=${ownerToken}`);
  console.log(
    `troupe up: share it read-only or to edit: troupe token --session main --role ` +
      `viewer|editor --data-dir ${o.dataDir}, then ` +
      `${collabFile.dashboard}?session=main&token=<token>`,
  );
  console.log(
    `troupe up: findings live in the terminal: troupe watch` +
      (join(o.dataDir) === join(DATA_DIR_DEFAULT) ? "" : ` --data-dir ${o.dataDir}`) +
      ` (stream ${collabFile.stream})`,
  );
  return collabFile;
}

/** Writes `<dataDir>/collab.json` (the gateway's URL and a viewer token) and returns it. */
async function dashboardFile(
  collab: LaunchedCollab,
  dataDir: string,
  kinds: HostKinds | undefined,
): Promise<CollabFile> {
  const base = `127.0.0.1:${collab.server.port}`;
  const ttlS = 8 * 3600;
  const token = await mintToken(collab.keyring, {
    session: "main",
    role: "viewer",
    ttlS,
    nowMs: Date.now(),
  });
  const file: CollabFile = {
    stream: `ws://${base}/stream`,
    dashboard: `http://${base}/`,
    session: "main",
    token,
    exp: Math.floor(Date.now() / 1000 + ttlS),
  };
  if (kinds !== undefined && kinds.modules.length > 0) {
    file.kinds = kinds.modules.map((m) => m.file);
  }
  writeCollabFile(dataDir, file);
  return file;
}

/**
 * Where the collaboration server keeps documents for a host journal kind: beside the host's
 * journal, in JetStream when the host's is there, in the data directory otherwise (a memory
 * journal keeps nothing across a restart; documents should).
 */
function collabJournalOf(kind: HostConfig["journal"]["kind"]): "file" | "jetstream" {
  return kind === "jetstream" ? "jetstream" : "file";
}
