/**
 * `troupe up`'s collaboration server: started beside the hosts on the same bus (its bridge reaches
 * them), its documents kept where the hosts' journal is, and `<data-dir>/collab.json` written for
 * `troupe watch` (the stream gateway's URL, a viewer token, the team's kind modules).
 */
import type { NatsAuth } from "../actors/runtime/mod.ts";
import type { Bus } from "../protocol/mod.ts";
import { type CollabFile, writeCollabFile } from "../actors/cluster/data_dir/mod.ts";
import type { HostKinds, UpHosts } from "../actors/cluster/mod.ts";
import { launchCollab, type LaunchedCollab } from "./launch_collab.ts";
import { mintToken } from "./session/mod.ts";

/** The collaboration server's and dashboard's port when it is free (y-websocket's usual one). */
export const COLLAB_PORT = 1234;

/** What of `troupe up`'s options the collaboration server needs. */
export interface UpCollabOptions {
  dataDir: string;
  collabPort: number | undefined;
  /** The hosts' journal: the documents are kept beside it. */
  journal: "file" | "jetstream";
  /** The kinds the hosts run: collab.json names the user's modules for watch. */
  kinds?: HostKinds;
  /**
   * A connection of the bridge's own, with the bridge role's credentials, when troupe up's
   * nats-server has users (the hosts' bus may not send incident control); else it shares `bus`.
   */
  bridge?: { nats: string; auth: NatsAuth };
}

/**
 * The collaboration server beside the hosts, on the same bus (its bridge reaches them), its
 * documents kept where the hosts' journal is (`o.journal`: JetStream, or the data directory).
 */
export async function startCollab(
  bus: Bus,
  launched: UpHosts,
  o: UpCollabOptions,
): Promise<LaunchedCollab> {
  // Loaded when troupe up starts one: the cluster's room holds the runtime, which a collab server
  // started alone does not load (tests/collab/startup_imports.test.ts).
  const { onPreferredPort } = await import("../actors/cluster/mod.ts");
  const launch = (port: number) =>
    launchCollab({
      dataDir: o.dataDir,
      port,
      ...(o.bridge ? { nats: o.bridge.nats, natsAuth: o.bridge.auth } : { bus }),
      // The node id names the collab journal's streams in JetStream: the same on every run.
      nodeId: "up-1-collab",
      journal: o.journal,
      // The dashboard's /api/* proxy reaches the scan service on the host's HTTP port.
      scanUrl: launched.httpPort === undefined || !launched.scans
        ? undefined
        : `http://127.0.0.1:${launched.httpPort}`,
    });
  return await (o.collabPort === undefined
    ? onPreferredPort(COLLAB_PORT, launch)
    : launch(o.collabPort));
}

/** Writes `<dataDir>/collab.json` (the gateway's URL and a viewer token) and returns it. */
export async function writeUpCollabFile(
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
