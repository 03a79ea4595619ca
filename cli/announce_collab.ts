/**
 * What `troupe up` says of its collaboration server: the owner's token, the dashboard's URL, the
 * links to share and `troupe watch`'s way in (collab/up_collab.ts starts it, writes collab.json).
 */
import { join } from "node:path";
import {
  COLLAB_JOURNAL_STREAM,
  type LaunchedCollab,
  mintToken,
  type UpCollabOptions,
  writeUpCollabFile,
} from "../collab/mod.ts";
import { type CollabFile, DATA_DIR_DEFAULT } from "../actors/cluster/data_dir/mod.ts";

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
  const collabFile = await writeUpCollabFile(collab, o.dataDir, o.kinds);
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
