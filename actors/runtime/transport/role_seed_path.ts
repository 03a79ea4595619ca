/**
 * Where a local cluster keeps each role's nkey seed in its data directory: written by the cluster
 * that starts the nats-server (actors/cluster), read by the commands run beside it for their role.
 * Here, beside the roles, so that a command finds its seed without loading the cluster.
 */
import { join } from "node:path";
import type { NatsRole } from "./nats_roles.ts";

/** The directory in `troupe up`'s data directory holding each role's nkey seed. */
export const NATS_AUTH_DIR = "nats-auth";

/** The seed file `troupe up` writes for `role` in `dataDir`. */
export function roleSeedPath(dataDir: string, role: NatsRole): string {
  return join(dataDir, NATS_AUTH_DIR, `${role}.nk`);
}
