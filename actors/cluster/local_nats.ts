/**
 * The nats-server a cluster on one machine starts (`troupe up`): on NATS's own port when it is
 * free and on a free port otherwise, with JetStream in the data directory and the feed stream
 * made, a user per role unless asked to run open, and a server a killed predecessor left on the
 * same store stopped first; or the one-line reason when it cannot, with nothing left running.
 */
import { join } from "node:path";
import { ensureFeedStream, freePort, NATS_AUTH_DIR, NatsBus, NatsServer } from "../runtime/mod.ts";
import { stopLeftNats, writeNatsPid } from "./nats_pid_file.ts";
import { type NatsRoleUsers, writeNatsRoleUsers } from "./nats_role_users.ts";
import { onPreferredPort } from "./preferred_port.ts";

/** NATS's own port: a local cluster takes it when it is free. */
export const NATS_PORT = 4222;

/** Options of `startLocalNats`. */
export interface LocalNatsOptions {
  /** The port (0: a free one); NATS's own, or a free one when it is taken, when absent. */
  port?: number | undefined;
  /** No users: anyone who reaches the server may do anything (a quick local try). */
  open?: boolean;
  /** Where the lines saying what was done go (a left server stopped, the server started). */
  log: (line: string) => void;
}

/** The started server, a bus connected to it as the host role, and the users it admits. */
export interface LocalNats {
  nats: NatsServer;
  bus: NatsBus;
  auth: NatsRoleUsers | undefined;
}

/**
 * Starts nats-server with JetStream in `dataDir` and connects to it; what went wrong otherwise (a
 * server that exits or is not ready within 10 s, one that cannot be connected to), with nothing
 * left running.
 */
export async function startLocalNats(
  binary: string,
  dataDir: string,
  options: LocalNatsOptions,
): Promise<LocalNats | string> {
  const storeDir = join(dataDir, "nats");
  const left = await stopLeftNats(dataDir, storeDir);
  if (left !== undefined) options.log(left);
  // Secure by default: a user per role, each allowed only its subjects.
  const auth = options.open ? undefined : writeNatsRoleUsers(dataDir);
  let nats: NatsServer;
  try {
    // Detached: Ctrl-C reaches this process alone, which drains the host through NATS and then
    // stops the server (in the terminal's process group, it would stop first).
    const start = (port: number) =>
      NatsServer.start({
        binary,
        storeDir,
        port,
        detached: true,
        ...(auth ? { args: ["-c", auth.configPath] } : {}),
      });
    nats = options.port === undefined
      ? await onPreferredPort(NATS_PORT, start)
      : await start(options.port === 0 ? await freePort() : options.port);
  } catch (err) {
    return `cannot start nats-server (${binary}): ${whyNats((err as Error).message)}`;
  }
  let bus: NatsBus | undefined;
  try {
    bus = await NatsBus.connect(nats.url, { name: "troupe-up", auth: auth?.roles.host });
    await ensureFeedStream(bus.nc);
  } catch (err) {
    await bus?.close().catch(() => {});
    await nats.stop();
    return `cannot use nats-server on ${nats.url}: ${whyNats((err as Error).message)}`;
  }
  if (nats.pid !== undefined) writeNatsPid(dataDir, nats.pid);
  options.log(
    `nats-server on ${nats.url} (JetStream store ${storeDir}; ${
      auth
        ? `a user per role, their nkey seeds in ${join(dataDir, NATS_AUTH_DIR)}`
        : "--nats-open: no credentials, anyone who reaches it may publish anything"
    })`,
  );
  return { nats, bus, auth };
}

/**
 * An error about nats-server in one line: its first line, then the server's own fatal or error
 * lines (its last lines when it printed none). The server logs its version and settings first
 * and why it stopped last, so its first lines alone hid the reason.
 */
function whyNats(text: string): string {
  const [head = "", ...log] = text.trim().split("\n");
  const errors = log.filter((l) => /\[(FTL|ERR)\]/.test(l));
  return [head, ...(errors.length ? errors : log).slice(-3)].join(" | ");
}
