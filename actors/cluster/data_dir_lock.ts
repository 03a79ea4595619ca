/**
 * One `troupe up` per data directory, checked before anything starts: a second one started a
 * second nats-server on the same JetStream store and took nats.url over, pointing the first one's
 * inject, ctl and record at a server that was gone once the host's journal lock stopped it.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describeError, type DirLock, DirLockedError, lockDir } from "../runtime/mod.ts";

/** Takes the data directory's lock for this `troupe up`, or says in one line who holds it. */
export function lockDataDir(dataDir: string): DirLock | string {
  try {
    mkdirSync(dataDir, { recursive: true });
    return lockDir(dataDir);
  } catch (err) {
    if (err instanceof DirLockedError) {
      return `the data directory ${dataDir} is in use by process ${err.pid} (another troupe ` +
        `up? its lock file is ${join(dataDir, "LOCK")}): stop it, or pass another --data-dir`;
    }
    return `cannot use the data directory ${dataDir}: ${describeError(err)}`;
  }
}
