/**
 * The nats-server `troupe up` starts (actors/cluster's startLocalNats), made findable by the other
 * commands through `<data dir>/nats.url`, and stopped however troupe up ends.
 */
import { join } from "node:path";
import process from "node:process";
import {
  type LocalNats,
  type LocalNatsOptions,
  NATS_PORT,
  removeNatsPid,
  startLocalNats,
} from "../actors/cluster/mod.ts";
import type { NatsServer } from "../actors/runtime/mod.ts";
import { DATA_DIR_DEFAULT, NATS_URL_FILE, writeNatsUrl } from "../actors/cluster/data_dir/mod.ts";

/** Starts the server, saying what it did on troupe up's lines; a string: why it could not. */
export async function startNats(
  binary: string,
  dataDir: string,
  options: Omit<LocalNatsOptions, "log">,
): Promise<LocalNats | string> {
  const log = (line: string) => console.log(`troupe up: ${line}`);
  const started = await startLocalNats(binary, dataDir, { ...options, log });
  if (typeof started === "string") return started;
  // The other commands find this server through the file, wherever it listens.
  writeNatsUrl(dataDir, started.nats.url);
  if (options.port === undefined && started.nats.port !== NATS_PORT) {
    console.log(natsPortTaken(started.nats.url, dataDir));
  }
  return started;
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

/** The one line saying that NATS listens elsewhere, and how the other commands find it. */
function natsPortTaken(url: string, dataDir: string): string {
  const found = join(dataDir) === join(DATA_DIR_DEFAULT)
    ? `inject, record and ctl run from this directory find it in ${join(dataDir, NATS_URL_FILE)}`
    : `pass --nats ${url} to inject, record and ctl`;
  return `troupe up: port ${NATS_PORT} is taken, so NATS listens on ${url}; ${found}`;
}
