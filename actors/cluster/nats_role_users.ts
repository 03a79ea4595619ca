/**
 * The users of the nats-server startLocalNats starts (for `troupe up`): one per role
 * (actors/runtime's NATS_ROLES), each with a fresh nkey on every start and its role's
 * permissions. The server's configuration holds only the public keys; each role's seed is a file
 * of its own in `<data dir>/nats-auth/` (mode 0600, in a directory of mode 0700), which the
 * commands run next to `troupe up` read for their role (cli/nats_auth_options.ts), and which can
 * be handed to one process without the others.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nkeys } from "@nats-io/transport-node";
import {
  NATS_AUTH_DIR,
  NATS_ROLES,
  type NatsAuth,
  natsAuthorizationConfig,
  type NatsRole,
  roleSeedPath,
} from "../runtime/mod.ts";

/** The server configuration written for the local nats-server, and each role's credentials. */
export interface NatsRoleUsers {
  /** The nats-server configuration file (its users and their permissions). */
  configPath: string;
  roles: Record<NatsRole, NatsAuth>;
}

/** Makes a user per role with a new nkey, and writes the seeds and the server's configuration. */
export function writeNatsRoleUsers(dataDir: string): NatsRoleUsers {
  const dir = join(dataDir, NATS_AUTH_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const roles = {} as Record<NatsRole, NatsAuth>;
  const users = NATS_ROLES.map((role) => {
    const pair = nkeys.createUser();
    const path = roleSeedPath(dataDir, role);
    writeFileSync(path, `${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600 });
    // writeFileSync's mode applies to a new file only: a seed left by an earlier up keeps its own.
    chmodSync(path, 0o600);
    roles[role] = { nkey: path };
    return { role, credential: { nkey: pair.getPublicKey() } };
  });
  const configPath = join(dir, "nats-server.conf");
  writeFileSync(configPath, natsAuthorizationConfig(users), { mode: 0o600 });
  chmodSync(configPath, 0o600);
  return { configPath, roles };
}
