/**
 * Test support: a real nats-server per suite, on a free port with JetStream in a temporary
 * directory. Where the binary is missing, suites that need it are skipped with one loud line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer, NatsServer } from "../../actors/runtime/nats_server.ts";

/** Whether nats-server is installed; prints a loud line once when it is not. */
export function haveNatsServer(suiteName: string): boolean {
  if (findNatsServer()) return true;
  console.log(
    `\n  !!! SKIPPED ${suiteName}: nats-server is not installed (apt-get install nats-server) !!!\n`,
  );
  return false;
}

/** The servers started here and not cleaned up yet: their pids, and their store directories. */
const running = new Map<number, string>();
let hooked = false;

/**
 * Kills what a test process leaves running when it ends: a test process that dies (an uncaught
 * error in a timer, say) runs no test's `finally`, and its nats-servers went on running for good,
 * each with its store in the temporary directory.
 */
function killOnExit(): void {
  for (const [pid, dir] of running) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
    rmSync(dir, { recursive: true, force: true });
  }
  running.clear();
}

/** Starts a JetStream-enabled nats-server in a fresh temporary store. */
export async function startTestNats(): Promise<NatsServer & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-nats-"));
  const server = await NatsServer.start({ storeDir: join(dir, "js") });
  const pid = server.pid;
  if (pid !== undefined) {
    if (!hooked) process.once("exit", killOnExit);
    hooked = true;
    running.set(pid, dir);
  }
  return Object.assign(server, {
    async cleanup() {
      await server.stop();
      if (pid !== undefined) running.delete(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = "troupe-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
