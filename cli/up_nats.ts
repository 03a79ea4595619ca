/**
 * The nats-server `troupe up` starts: which binary (`TROUPE_NATS_SERVER`, or the one on PATH), on
 * NATS's own port when it is free and on a free port otherwise, with JetStream in the data
 * directory and the feed stream made; and the one-line reasons when it cannot.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  ensureFeedStream,
  findNatsServer,
  freePort,
  NatsBus,
  NatsServer,
} from "../actors/runtime/mod.ts";
import { DATA_DIR_DEFAULT, NATS_URL_FILE, writeNatsUrl } from "./nats_url.ts";
import { removeNatsPid, stopLeftNats, writeNatsPid } from "./nats_pid_file.ts";
import { NATS_AUTH_DIR } from "./nats_auth_options.ts";
import { type UpNatsAuth, writeUpNatsAuth } from "./up_nats_auth.ts";

/** The environment variable naming the nats-server binary `troupe up` starts (PATH otherwise). */
export const NATS_SERVER_ENV = "TROUPE_NATS_SERVER";

/** The nats-server binary: the one `TROUPE_NATS_SERVER` names, if it exists, or the one on PATH. */
export function natsServerBinary(): string | undefined {
  const named = process.env[NATS_SERVER_ENV];
  if (named) return existsSync(named) ? named : undefined;
  return findNatsServer();
}

/** Why `natsServerBinary` found none. */
export function whyNoNatsServer(): string {
  const named = process.env[NATS_SERVER_ENV];
  return named
    ? `and ${NATS_SERVER_ENV} names "${named}", which does not exist`
    : "which is not on PATH";
}

/**
 * Starts nats-server with JetStream in the data directory and connects to it; what went wrong
 * otherwise (a server that exits or is not ready within 10 s, one that cannot be connected to),
 * with nothing left running.
 */
export async function startNats(
  binary: string,
  dataDir: string,
  options: StartNatsOptions = {},
): Promise<{ nats: NatsServer; bus: NatsBus; auth: UpNatsAuth | undefined } | string> {
  const storeDir = join(dataDir, "nats");
  const left = await stopLeftNats(dataDir, storeDir);
  if (left !== undefined) console.log(`troupe up: ${left}`);
  // Secure by default: a user per role, each allowed only its subjects.
  const auth = options.open ? undefined : writeUpNatsAuth(dataDir);
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
  console.log(
    `troupe up: nats-server on ${nats.url} (JetStream store ${storeDir}; ${
      auth
        ? `a user per role, their nkey seeds in ${join(dataDir, NATS_AUTH_DIR)}`
        : "--nats-open: no credentials, anyone who reaches it may publish anything"
    })`,
  );
  // The other commands find this server through the file, wherever it listens.
  writeNatsUrl(dataDir, nats.url);
  if (options.port === undefined && nats.port !== NATS_PORT) {
    console.log(natsPortTaken(nats.url, dataDir));
  }
  return { nats, bus, auth };
}

/** Options of `startNats`. */
export interface StartNatsOptions {
  /** The port (0: a free one); NATS's own, or a free one when it is taken, when absent. */
  port?: number | undefined;
  /** No users: anyone who reaches the server may do anything (a quick local try). */
  open?: boolean;
}

/**
 * Stops `nats` however troupe up ends, since nats-server runs in a process group of its own and
 * nothing else would: at exit, and on an error nothing caught (Node runs exit handlers then, Deno
 * does not), which is said with its stack (it is a bug) and ends troupe up with exit code 1.
 */
export function stopNatsWithProcess(nats: NatsServer, dataDir: string): void {
  // stop() signals the server before it first awaits: enough in an exit handler.
  process.once("exit", () => {
    void nats.stop().catch(() => {});
    removeNatsPid(dataDir);
  });
  const fatal = (err: unknown) => {
    console.error(`troupe up: stopped by an error nothing caught: ${(err as Error)?.stack ?? err}`);
    process.exit(1);
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
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

/** NATS's own port: `troupe up` takes it when it is free. */
const NATS_PORT = 4222;

/** The one line saying that NATS listens elsewhere, and how the other commands find it. */
function natsPortTaken(url: string, dataDir: string): string {
  const found = join(dataDir) === join(DATA_DIR_DEFAULT)
    ? `inject, record and ctl run from this directory find it in ${join(dataDir, NATS_URL_FILE)}`
    : `pass --nats ${url} to inject, record and ctl`;
  return `troupe up: port ${NATS_PORT} is taken, so NATS listens on ${url}; ${found}`;
}

/**
 * Starts what `start` starts on `preferred` when it is free, else on a free port; also when
 * `preferred` was free when looked at but taken before `start` bound it (another troupe up
 * starting at the same moment: the test suite's two runtimes did).
 */
export async function onPreferredPort<T>(preferred: number, start: (port: number) => Promise<T>) {
  const port = await portOr(preferred);
  try {
    return await start(port);
  } catch (err) {
    const message = `${(err as Error).message} ${(err as { code?: string }).code ?? ""}`;
    if (port !== preferred || !/EADDRINUSE|address already in use/i.test(message)) throw err;
    return await start(await freePort());
  }
}

export async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => freePort().then(resolve));
    server.listen(preferred, "127.0.0.1", () => server.close(() => resolve(preferred)));
  });
}
