/**
 * The nats-server startLocalNats started (for `troupe up`), remembered in `<data dir>/nats.pid`
 * while it runs. A troupe up killed outright (kill -9) cannot stop its server, which runs in a
 * process group of its own: the next troupe up on the same data directory (which holds the
 * directory's lock, so no live troupe up owns that server) finds it through the file and stops it
 * before starting its own on the same JetStream store.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

/** The file in the data directory naming the running nats-server's process id. */
export const NATS_PID_FILE = "nats.pid";

/** How long a left server is given to stop on SIGTERM before it is killed. */
const LEFT_STOP_MS_MAX = 5_000;

/** Remembers `pid`, the nats-server just started on `dataDir`'s store. */
export function writeNatsPid(dataDir: string, pid: number): void {
  writeFileSync(join(dataDir, NATS_PID_FILE), `${pid}\n`);
}

/** Forgets the server (it stopped); synchronous, for exit handlers. */
export function removeNatsPid(dataDir: string): void {
  rmSync(join(dataDir, NATS_PID_FILE), { force: true });
}

/**
 * Stops the nats-server a previous troupe up on `dataDir` left running on `storeDir`, if the
 * file names one that still runs there (a pid reused by another program is left alone); the line
 * saying so, or undefined when there was none.
 */
export async function stopLeftNats(dataDir: string, storeDir: string): Promise<string | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, NATS_PID_FILE), "utf8").trim());
  } catch {
    return undefined;
  }
  removeNatsPid(dataDir);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isNatsServerOn(pid, storeDir)) return undefined;
  signal(pid, "SIGTERM");
  const deadline = Date.now() + LEFT_STOP_MS_MAX;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) signal(pid, "SIGKILL");
  return `stopped nats-server ${pid}, left running on ${storeDir} by a troupe up that was killed`;
}

/** Whether process `pid` is a nats-server on `storeDir` (its command line, as ps shows it). */
function isNatsServerOn(pid: number, storeDir: string): boolean {
  try {
    const args = execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" });
    return args.includes("nats-server") && args.includes(storeDir);
  } catch {
    return false; // ps exits 1 for a pid that is gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}
