/**
 * The data directory of a cluster on one machine (`troupe up`): the files it leaves there for the
 * other commands to find what it started, wherever it listens (`nats.url`, `http.url`,
 * `collab.json`), and the receiver's block to paste into Prometheus' configuration. Entered by
 * the commands directly, without the cluster's mod.ts, so that one that only reads a file loads
 * nothing else.
 */
export {
  DATA_DIR_DEFAULT,
  type DiscoveryFile,
  readDiscoveryFile,
  removeDiscoveryFile,
  type ResolvedUrl,
  resolveUrl,
  urlFile,
  writeDiscoveryFile,
} from "./discovery_file.ts";
export {
  NATS_URL_DEFAULT,
  NATS_URL_FILE,
  removeNatsUrl,
  type ResolvedNatsUrl,
  resolveNatsUrl,
  writeNatsUrl,
} from "./nats_url_file.ts";
export {
  HTTP_URL_DEFAULT,
  HTTP_URL_FILE,
  removeHttpUrl,
  resolveHttpUrl,
  writeHttpUrl,
} from "./host_url_file.ts";
export {
  COLLAB_FILE,
  type CollabFile,
  readCollabFile,
  removeCollabFile,
  writeCollabFile,
} from "./collab_file.ts";
export { RECEIVER_BLOCK_FILE, writeReceiverBlock } from "./receiver_block_file.ts";
