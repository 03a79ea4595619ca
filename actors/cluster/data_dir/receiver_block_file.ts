/**
 * The block to paste into `prometheus.yml` (and an OpenTelemetry Collector's config) for a metrics
 * receiver, written to a file of the data directory that only its owner may read: the block holds
 * the receiver's bearer token or password, and what a command prints ends up in terminals' and
 * supervisors' logs, where a secret must not.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The file's name in the data directory. */
export const RECEIVER_BLOCK_FILE = "prometheus-remote-write.yml";

/** Writes `block` to `<dataDir>/prometheus-remote-write.yml` (mode 0600); returns its path. */
export function writeReceiverBlock(dataDir: string, block: string): string {
  mkdirSync(dataDir, { recursive: true });
  const path = resolve(join(dataDir, RECEIVER_BLOCK_FILE));
  writeFileSync(path, `${block}\n`, { mode: 0o600 });
  // The mode given applies to a new file only: one left by an earlier run keeps its own.
  chmodSync(path, 0o600);
  return path;
}
